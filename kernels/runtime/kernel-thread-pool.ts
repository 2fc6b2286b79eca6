import { Worker } from 'node:worker_threads';
import { HotpathError } from '../../lib/errors/hotpath-error';
import { compileKernelModule, instantiateKernelModule, type KernelInstance, type LoadKernelOptions } from './load-kernel-module';
import { wasmApi, type WasmMemory } from './webassembly-api';

/**
 * Worker threads over one shared WASM memory. Every thread (the calling thread included)
 * instantiates the family's `threads` build (imported shared memory) and runs the same kernel
 * on its own range of rows; data never moves. Dispatch is synchronous: the caller writes the
 * job into a shared control block, wakes the workers with Atomics.notify, does its own share,
 * and Atomics.waits for the rest (tens of microseconds, against milliseconds of kernel work).
 *
 * Workers never allocate (they have their own copy of the stub allocator's state): all buffers
 * come from arenas on `pool.instance`, made on the calling thread.
 */
export class KernelThreadPoolError extends HotpathError {
  constructor(message: string) {
    // A server fault (500, message logged, not shown), never the input's: the core passes HotpathErrors through as they are.
    super(message, { status: 500, expose: false });
    // Set explicitly: the minified bundle renames classes.
    this.name = 'KernelThreadPoolError';
  }
}

/** How a kernel call splits over rows: which argument is the row count and which are per-row or per-thread pointers. */
export interface RowSplit {
  /** Index of the row-count argument. */
  readonly countArg: number;
  /** [argument index, bytes per row]: pointers advanced to each thread's first row. */
  readonly rowPointers: readonly (readonly [number, number])[];
  /** [argument index, bytes per thread]: scratch pointers advanced by thread number, so each thread has its own. */
  readonly threadPointers?: readonly (readonly [number, number])[];
}

const MAX_ARGS = 32;
const CTRL_GENERATION = 0;
const CTRL_DONE = 1;
const CTRL_FUNCTION = 2;
const CTRL_ARGC = 3;
const CTRL_FAILED = 4;
const STOP = -1;
/**
 * How long a thread spins on the control block before sleeping in Atomics.wait, in ms. A thread
 * that sleeps between the jobs of a k-means fit (one per iteration, a few ms apart) is woken by
 * the scheduler on the busy caller's core, so caller and worker share one core for the job:
 * measured on the 2-core dev machine, balanced k-means (100k × 64, k = 32) full assignments took
 * 12 ms with 2 threads and 12 ms with 1 (npx tsx bench/kernels/kmeans-profile.ts balanced);
 * spinning between jobs keeps each thread on its own core, as OpenMP runtimes do (GOMP_SPINCOUNT).
 */
const SPIN_MS = 3;
/**
 * The rows are split evenly, so the workers' shares take about as long as the caller's own.
 * Once the caller is done, a worker that needs more than this many times the caller's time
 * (and at least WORKER_GRACE_MIN_MS) is taken as dead or wedged: the job fails instead of
 * waiting forever, the workers are stopped, and the pool runs every later job on the calling
 * thread alone (same code per row, so the same results, bit for bit).
 */
const WORKER_GRACE_FACTOR = 50;
const WORKER_GRACE_MIN_MS = 2_000;
/** Memory limit of the threads build (kernels/build-kernels.mjs: --maximumMemory 16384 pages = 1 GiB). */
const MAX_PAGES = 16384;

// Plain JS so it runs unchanged under tsx, jest and bundled Lambda code (no TypeScript loader in workers).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, args, slot, functionNames, family } = workerData;
const instance = new WebAssembly.Instance(module, { env: {
  memory,
  abort() { throw new Error('kernel family ' + family + ' aborted in a worker'); },
  seed: () => Date.now(),
} });
const ctrl = new Int32Array(control);
const argv = new Float64Array(args);
let generation = 0;
for (;;) {
  // Spin for up to ${SPIN_MS} ms before sleeping (see SPIN_MS); a notify without a new job (wake()) restarts the spin.
  const spinUntil = performance.now() + ${SPIN_MS};
  for (let i = 1; Atomics.load(ctrl, ${CTRL_GENERATION}) === generation; i++) {
    if ((i & 1023) === 0 && performance.now() > spinUntil) {
      Atomics.wait(ctrl, ${CTRL_GENERATION}, generation);
      break;
    }
  }
  if (Atomics.load(ctrl, ${CTRL_GENERATION}) === generation) continue;
  generation = Atomics.load(ctrl, ${CTRL_GENERATION});
  const fn = ctrl[${CTRL_FUNCTION}];
  if (fn === ${STOP}) break;
  const base = slot * ${MAX_ARGS};
  const list = [];
  for (let i = 0; i < ctrl[${CTRL_ARGC}]; i++) list.push(argv[base + i]);
  try { instance.exports[functionNames[fn]](...list); } catch (e) { Atomics.store(ctrl, ${CTRL_FAILED}, 1); }
  Atomics.add(ctrl, ${CTRL_DONE}, 1);
  Atomics.notify(ctrl, ${CTRL_DONE});
}
`;

export class KernelThreadPool<E extends object = object> {
  /** The calling thread's instance over the shared memory: make arenas on it. */
  readonly instance: KernelInstance<E>;
  readonly threads: number;
  readonly #workers: Worker[];
  readonly #control: Int32Array;
  readonly #args: Float64Array;
  readonly #functionNames: readonly string[];
  #closed = false;
  /** Why the workers are no longer used (a worker exited or missed its deadline); undefined while they are healthy. */
  #broken: string | undefined;

  /** @internal use createKernelThreadPool */
  constructor(family: string, threads: number, functionNames: readonly string[], initialPages: number, options: LoadKernelOptions) {
    if (!Number.isInteger(threads) || threads < 1) throw new KernelThreadPoolError(`'threads' must be an integer ≥ 1, got ${threads}`);
    if (functionNames.length === 0) throw new KernelThreadPoolError(`'functionNames' cannot be an empty array`);
    this.threads = threads;
    this.#functionNames = functionNames;
    const memory: WasmMemory = new wasmApi.Memory({ initial: Math.max(16, initialPages), maximum: MAX_PAGES, shared: true });
    const variant = { ...options, variant: 'threads' as const };
    this.instance = instantiateKernelModule<E>(family, { ...variant, memory });
    for (const name of functionNames) {
      if (typeof (this.instance.exports as Record<string, unknown>)[name] !== 'function') {
        throw new KernelThreadPoolError(`kernel family '${family}' has no exported function '${name}'`);
      }
    }
    const module = compileKernelModule(family, variant);
    this.#control = new Int32Array(new SharedArrayBuffer(8 * 4));
    this.#args = new Float64Array(new SharedArrayBuffer(threads * MAX_ARGS * 8));
    this.#workers = [];
    for (let slot = 1; slot < threads; slot++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: this.#control.buffer, args: this.#args.buffer, slot, functionNames, family },
      });
      worker.unref();
      // Events arrive between jobs (the caller is busy during one): the next job then runs on the calling thread alone.
      worker.on('error', (error) => this.#markBroken(`worker ${slot} failed: ${error.message}`));
      worker.on('exit', (code) => {
        if (!this.#closed) this.#markBroken(`worker ${slot} exited (code ${code})`);
      });
      this.#workers.push(worker);
    }
  }

  /**
   * Runs `functionName(...args)` over `rows` rows split evenly across the threads (the calling
   * thread takes the first share) and returns when every thread is done.
   */
  runRows(functionName: string, args: readonly number[], rows: number, split: RowSplit): void {
    if (this.#closed) throw new KernelThreadPoolError('thread pool used after close()');
    const fn = this.#functionNames.indexOf(functionName);
    if (fn < 0) throw new KernelThreadPoolError(`'${functionName}' was not registered with this pool (${this.#functionNames.join(', ')})`);
    if (args.length > MAX_ARGS) throw new KernelThreadPoolError(`at most ${MAX_ARGS} arguments, got ${args.length}`);
    const perThread = Math.ceil(rows / this.threads);
    const argsFor = (slot: number, share = perThread): number[] => {
      const start = Math.min(rows, slot * share);
      const count = Math.min(rows, start + share) - start;
      const list = [...args];
      list[split.countArg] = count;
      for (const [index, bytesPerRow] of split.rowPointers) list[index] = args[index]! + start * bytesPerRow;
      for (const [index, bytesPerThread] of split.threadPointers ?? []) list[index] = args[index]! + slot * bytesPerThread;
      return list;
    };
    const own = (this.instance.exports as Record<string, (...a: number[]) => unknown>)[functionName]!;
    if (this.#broken !== undefined) {
      own(...argsFor(0, rows));
      return;
    }
    const ctrl = this.#control;
    if (this.#workers.length > 0) {
      for (let slot = 1; slot < this.threads; slot++) this.#args.set(argsFor(slot), slot * MAX_ARGS);
      Atomics.store(ctrl, CTRL_DONE, 0);
      Atomics.store(ctrl, CTRL_FAILED, 0);
      Atomics.store(ctrl, CTRL_FUNCTION, fn);
      Atomics.store(ctrl, CTRL_ARGC, args.length);
      Atomics.add(ctrl, CTRL_GENERATION, 1);
      Atomics.notify(ctrl, CTRL_GENERATION);
    }
    const started = performance.now();
    own(...argsFor(0));
    const ownDone = performance.now();
    const giveUpAt = ownDone + Math.max(WORKER_GRACE_MIN_MS, WORKER_GRACE_FACTOR * (ownDone - started));
    const spinUntil = ownDone + SPIN_MS;
    for (let done = Atomics.load(ctrl, CTRL_DONE), i = 1; done < this.#workers.length; done = Atomics.load(ctrl, CTRL_DONE), i++) {
      if ((i & 1023) !== 0) continue;
      const now = performance.now();
      if (now > giveUpAt) {
        this.#markBroken(`'${functionName}': ${this.#workers.length - done} worker(s) had not finished their rows ${Math.round(now - ownDone)} ms after the calling thread finished its own`);
        throw new KernelThreadPoolError(`${this.#broken}; the pool's workers were stopped and later jobs run on the calling thread`);
      }
      if (now > spinUntil) Atomics.wait(ctrl, CTRL_DONE, done, Math.min(100, giveUpAt - now));
    }
    if (Atomics.load(ctrl, CTRL_FAILED)) throw new KernelThreadPoolError(`'${functionName}' failed in a worker thread`);
  }

  /**
   * Gets sleeping workers spinning again (for SPIN_MS) without giving them a job: call it just
   * before a burst of runRows calls (e.g. at the start of a k-means fit), so the first job does
   * not find its worker asleep.
   */
  wake(): void {
    if (!this.#closed && this.#workers.length > 0) Atomics.notify(this.#control, CTRL_GENERATION);
  }

  /** Why the pool stopped using its workers, or undefined while they serve. */
  get broken(): string | undefined {
    return this.#broken;
  }

  /** Stops the workers for good (they may be wedged mid-job: none may write into the shared memory again). */
  #markBroken(reason: string): void {
    if (this.#broken !== undefined || this.#closed) return;
    this.#broken = reason;
    for (const worker of this.#workers) void worker.terminate();
    process.emitWarning(`kernel thread pool: ${reason}; running on the calling thread from now on`, { code: 'HOTPATH_KERNEL_POOL' });
  }

  /** @internal for tests: ends worker `slot` (1 ≤ slot < threads) abruptly, as a crash in it would. */
  terminateWorker(slot: number): Promise<number> {
    return this.#workers[slot - 1]!.terminate();
  }

  /** Stops the workers. The pool's instance stays usable on the calling thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, CTRL_FUNCTION, STOP);
    Atomics.add(this.#control, CTRL_GENERATION, 1);
    Atomics.notify(this.#control, CTRL_GENERATION);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/**
 * A pool of `threads` threads (the caller plus threads − 1 workers) over a fresh shared memory
 * of `initialBytes` (grown on demand up to 1 GiB), able to run the named exports of `family`.
 * @example
 * const pool = createKernelThreadPool('kmeans', 2, ['assignNearest'], 64 << 20);
 * const arena = createArena(pool.instance, 48 << 20);
 * pool.runRows('assignNearest', [...], n, { countArg: 1, rowPointers: [[0, d * 4]] });
 */
export function createKernelThreadPool<E extends object>(
  family: string,
  threads: number,
  functionNames: readonly string[],
  initialBytes = 16 << 16,
  options: LoadKernelOptions = {},
): KernelThreadPool<E> {
  return new KernelThreadPool<E>(family, threads, functionNames, Math.ceil(initialBytes / 65536), options);
}
