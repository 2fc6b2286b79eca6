// Compiles every kernel family (kernels/<family>/assembly/index.ts) to
// kernels/build/<family>.wasm (release, -O3) and kernels/build/<family>.debug.wasm (debug, bounds
// checks and names), with plain SIMD: that build is the default and the reference.
// kernels/<family>/kernel-build.json opts a family into more builds:
// - { "threads": true }: kernels/build/<family>.threads.wasm (imported shared memory, for worker threads);
// - { "relaxedSimd": true }: kernels/build/<family>.relaxed.wasm (and <family>.threads.relaxed.wasm
//   with threads), compiled with `--enable relaxed-simd` so the multiply-add of the dot-product
//   microkernels is f32x4.relaxed_madd (kernels/distances/assembly/multiply-add.ts). Engines that
//   validate relaxed SIMD (Node >= 22, Lambda's nodejs22.x; Node 20 with
//   --experimental-wasm-relaxed-simd) load it instead of the plain build
//   (kernels/runtime/load-kernel-module.ts); families without the flag have no relaxed code.
import { readdirSync, existsSync, mkdirSync, statSync, readFileSync } from 'node:fs';
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
  const configFile = join(kernelsDir, family, 'kernel-build.json');
  const config = existsSync(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) : {};
  const variants = [
    ['', ['-O3', '--noAssert', '--converge']],
    ['.debug', ['--debug', '--sourceMap']],
  ];
  if (config.threads) {
    // Every worker instantiates this build over one shared memory (maximum 1 GiB = 16384 pages).
    variants.push(['.threads', ['-O3', '--noAssert', '--converge', '--enable', 'threads', '--importMemory', '--sharedMemory', '--maximumMemory', '16384']]);
  }
  if (config.relaxedSimd) {
    for (const [suffix, flags] of variants.filter(([suffix]) => suffix !== '.debug')) {
      variants.push([`${suffix}.relaxed`, [...flags, '--enable', 'relaxed-simd']]);
    }
  }
  for (const [suffix, flags] of variants) {
    const outFile = join(outDir, `${family}${suffix}.wasm`);
    if (isFresh(outFile, families.map((f) => join(kernelsDir, f, 'assembly')), configFile)) continue;
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

/**
 * True when outFile is newer than every AssemblyScript source of every family (a family may import
 * another's assembly files) and than its build config, so repeated builds are instant.
 */
function isFresh(outFile, sourceDirs, configFile) {
  if (!existsSync(outFile)) return false;
  const built = statSync(outFile).mtimeMs;
  let newest = existsSync(configFile) ? statSync(configFile).mtimeMs : 0;
  for (const sourceDir of sourceDirs) {
    for (const f of readdirSync(sourceDir, { recursive: true })) {
      newest = Math.max(newest, statSync(join(sourceDir, String(f))).mtimeMs);
    }
  }
  return built > newest;
}
