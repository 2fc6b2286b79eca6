// Compiles every kernel family (kernels/<family>/assembly/index.ts) to
// kernels/build/<family>.wasm (release, -O3) and kernels/build/<family>.debug.wasm (debug, bounds
// checks and names). Plain SIMD only: relaxed SIMD needs Node >= 22 and Lambda's x86_64/arm64
// runtimes both run this build.
import { readdirSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const kernelsDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(kernelsDir, 'build');
mkdirSync(outDir, { recursive: true });

const families = readdirSync(kernelsDir).filter((name) => existsSync(join(kernelsDir, name, 'assembly', 'index.ts')));

const common = ['--enable', 'simd', '--runtime', 'stub', '--exportRuntime', '--initialMemory', '16'];
let failed = false;
for (const family of families) {
  const entry = join(kernelsDir, family, 'assembly', 'index.ts');
  for (const [suffix, flags] of [
    ['', ['-O3', '--noAssert', '--converge']],
    ['.debug', ['--debug', '--sourceMap']],
  ]) {
    const outFile = join(outDir, `${family}${suffix}.wasm`);
    if (isFresh(outFile, join(kernelsDir, family, 'assembly'))) continue;
    const { error, stderr } = await asc.main([entry, '--outFile', outFile, ...common, ...flags], {});
    if (error) {
      failed = true;
      console.error(`kernels: ${family}${suffix} failed: ${error.message}\n${stderr.toString()}`);
    } else {
      console.log(`kernels: built ${family}${suffix}.wasm (${statSync(outFile).size} bytes)`);
    }
  }
}
if (failed) process.exit(1);

/** True when outFile is newer than every source file of its family, so repeated builds are instant. */
function isFresh(outFile, sourceDir) {
  if (!existsSync(outFile)) return false;
  const built = statSync(outFile).mtimeMs;
  const newest = readdirSync(sourceDir, { recursive: true })
    .map((f) => statSync(join(sourceDir, String(f))).mtimeMs)
    .reduce((a, b) => Math.max(a, b), 0);
  return built > newest;
}
