/**
 * The kernel thread pool when a worker dies: the request that finds it dead fails (or, if the
 * worker finished first, succeeds) within the grace bound instead of hanging, and every later
 * job runs on the calling thread with the same results.
 */
import { createKernelThreadPool, KernelThreadPoolError } from '../../../kernels/runtime/kernel-thread-pool';
import { createArena } from '../../../kernels/runtime/wasm-arena';
import { HotpathError } from '../../../lib/errors/hotpath-error';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';

interface NormExports { squaredRowNorms(x: number, n: number, d: number, out: number): void }

const N = 1001;
const D = 13;

function setUp() {
  const pool = createKernelThreadPool<NormExports>('distances', 2, ['squaredRowNorms'], 4 << 20);
  const arena = createArena(pool.instance, 1 << 20);
  const x = arena.f32(N * D);
  const random = mulberry32(11);
  for (let i = 0; i < N * D; i++) x.view[i] = random() * 2 - 1;
  const out = arena.f32(N);
  const run = () => {
    out.view.fill(-1);
    pool.runRows('squaredRowNorms', [x.ptr, N, D, out.ptr], N, { countArg: 1, rowPointers: [[0, D * 4], [3, 4]] });
    return Float32Array.from(out.view);
  };
  return { pool, run };
}

describe('KernelThreadPool', () => {
  it('runs later jobs on the calling thread, with the same results, once a worker has died', async () => {
    // Prepare
    const { pool, run } = setUp();
    const healthy = run();
    expect(healthy.every((v) => v >= 0)).toBe(true);

    // Act
    await pool.terminateWorker(1);
    await new Promise((r) => setTimeout(r, 20)); // the exit event
    const afterDeath = run();

    // Assess
    expect(pool.broken).toMatch(/worker 1 exited/);
    expect(afterDeath).toEqual(healthy);
    await pool.close();
  });

  it('never hangs when a worker dies while the caller waits for it: fails the job with a server error, or finishes it', async () => {
    // Prepare
    const { pool, run } = setUp();
    const healthy = run();

    // Act: the exit event cannot be delivered while runRows blocks the calling thread.
    void pool.terminateWorker(1);
    const started = performance.now();
    let outcome: Float32Array | unknown;
    try {
      outcome = run();
    } catch (error) {
      outcome = error;
    }
    const waitedMs = performance.now() - started;

    // Assess
    if (outcome instanceof Float32Array) {
      expect(outcome).toEqual(healthy);
    } else {
      expect(outcome).toBeInstanceOf(KernelThreadPoolError);
      expect(outcome).toBeInstanceOf(HotpathError);
      expect((outcome as HotpathError).status).toBe(500);
      expect((outcome as Error).message).toMatch(/had not finished their rows/);
      expect(pool.broken).toBeDefined();
    }
    expect(waitedMs).toBeLessThan(30_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(run()).toEqual(healthy);
    await pool.close();
  });
});
