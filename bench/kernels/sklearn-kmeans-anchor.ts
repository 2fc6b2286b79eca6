import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../../kernels/runtime/npy-file-format';

const PYTHON = '/usr/bin/python3';

// Times KMeans(algorithm="lloyd", init=<ours>, n_init=1, max_iter, tol=0).fit at each thread count.
const SCRIPT = `
import json, sys, time
import numpy as np
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits, threadpool_info
x = np.load(sys.argv[1]); init = np.load(sys.argv[2]); max_iter = int(sys.argv[3]); reps = int(sys.argv[4])
out = {"version": sklearn.__version__, "blas": [i.get("internal_api") + " " + str(i.get("version")) + " " + str(i.get("architecture")) for i in threadpool_info()], "runs": []}
for threads in [int(t) for t in sys.argv[5].split(",")]:
    with threadpool_limits(limits=threads):
        times = []
        for _ in range(reps):
            km = KMeans(n_clusters=init.shape[0], algorithm="lloyd", init=init, n_init=1, max_iter=max_iter, tol=0)
            t = time.perf_counter(); km.fit(x); times.append(time.perf_counter() - t)
        times.sort()
        out["runs"].append({"threads": threads, "ms": times[len(times)//2] * 1000, "n_iter": int(km.n_iter_), "inertia": float(km.inertia_)})
print(json.dumps(out))
`;

export interface SklearnRun {
  readonly threads: number;
  readonly ms: number;
  readonly n_iter: number;
  readonly inertia: number;
}
export interface SklearnResult {
  readonly version: string;
  readonly blas: string[];
  readonly runs: SklearnRun[];
}

/** Makes sure Debian's python3-sklearn is importable, installing it with apt-get when missing. Returns why not, or undefined. */
export function ensureSklearn(log: (line: string) => void): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn, threadpoolctl'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  log('bench: scikit-learn missing; installing python3-sklearn with apt-get');
  const install = spawnSync('apt-get', ['install', '-y', 'python3-sklearn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (install.status !== 0) return `apt-get install python3-sklearn failed: ${(install.stderr || '').trim().split('\n').pop()}`;
  const again = spawnSync(PYTHON, ['-c', 'import sklearn, threadpoolctl'], { encoding: 'utf8' });
  return again.status === 0 ? undefined : `scikit-learn still not importable: ${again.stderr.trim().split('\n').pop()}`;
}

/** Runs the scikit-learn anchor on x with our init (data passed as temporary .npy files). */
export function runSklearnKMeans(x: Float32Array, n: number, d: number, init: Float32Array, maxIter: number, threads: number[], reps: number): SklearnResult {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-bench-'));
  try {
    writeFileSync(join(dir, 'x.npy'), writeNpy(x, [n, d]));
    writeFileSync(join(dir, 'init.npy'), writeNpy(init, [init.length / d, d]));
    writeFileSync(join(dir, 'anchor.py'), SCRIPT);
    // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines here) slow a current OpenBLAS: unset in this subprocess only.
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const stdout = execFileSync(
      PYTHON,
      [join(dir, 'anchor.py'), join(dir, 'x.npy'), join(dir, 'init.npy'), String(maxIter), String(reps), threads.join(',')],
      { env, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    return JSON.parse(stdout) as SklearnResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
