import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineSupportsRelaxedSimd } from '../../../kernels/runtime/load-kernel-module';

// The property tests of the kernels that have a relaxed-SIMD build, run in a child Node on the
// other SIMD level than this process (Node 20: relaxed SIMD only with the flag; Node >= 22: on
// unless turned off), so the plain and relaxed builds both pass them on every `npm test`.
const SUITES = ['distances-kernels.test.ts', 'distances-threads.test.ts', 'kmeans-kernels.test.ts', 'kernel-simd-level.test.ts'];

describe('kernels on the other SIMD level', () => {
  it('pass the distance, k-means and SIMD-level tests in a child process', () => {
    const relaxedHere = engineSupportsRelaxedSimd();
    const other = relaxedHere ? 'simd' : 'relaxed-simd';
    const flag = relaxedHere ? '--no-experimental-wasm-relaxed-simd' : '--experimental-wasm-relaxed-simd';
    const root = join(__dirname, '..', '..', '..');
    const dir = mkdtempSync(join(tmpdir(), 'kernel-simd-'));
    const report = join(dir, 'report.json');
    try {
      const child = spawnSync(
        process.execPath,
        [flag, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning', join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
          '--runTestsByPath', ...SUITES.map((s) => join(__dirname, s)), '--json', `--outputFile=${report}`],
        { cwd: root, encoding: 'utf8', timeout: 120_000 },
      );
      const results = JSON.parse(readFileSync(report, 'utf8')) as {
        success: boolean; numPassedTests: number; testResults: { assertionResults: { title: string; status: string }[] }[];
      };
      const titles = results.testResults.flatMap((r) => r.assertionResults.filter((a) => a.status === 'passed').map((a) => a.title));
      if (!results.success) throw new Error(`child jest (${flag}) failed:\n${child.stderr.slice(-4000)}`);
      expect(titles).toContain(`loads the ${other} build of families that have a relaxed build on this engine`);
      expect(results.numPassedTests).toBeGreaterThan(20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
