/**
 * Bundles every Lambda entry point (`functions/**\/*-handler.ts`) into
 * `dist/functions/<same path>.mjs`: one self-contained ESM file per function, so each
 * function zip holds only its bundle and its source map.
 *
 * The ONNX runtimes and the AWS SDK are left external: onnxruntime-web comes from the
 * runtime layer (/opt/nodejs/node_modules), onnxruntime-node only runs in the GPU task,
 * and the Node.js Lambda runtime ships the AWS SDK v3. The batch functions (functions/batch/)
 * bundle the SDK instead (client-s3, lib-storage, client-sfn, client-ecs at the versions
 * package-lock.json pins; the runtime's copy is not ours to pin and lib-storage is not
 * promised there): see BATCH_EXTERNAL_PACKAGES. The api and stream bundles keep it external
 * (cold start; they import client-s3 only for models in S3).
 *
 * Beside each bundle goes a `.cjs` loader for `serverless invoke local` (see
 * writeInvokeLocalLoaders); the function zips do not ship it.
 *
 * Skips the build when no input of the previous build changed (esbuild's metafile lists
 * them); `--force` rebuilds anyway.
 *
 * @example
 * npm run build:functions            # incremental
 * npm run build:functions -- --force # always rebuild
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EXTERNAL_PACKAGES, FUNCTION_BUNDLE_OPTIONS } from './function-bundle-options';

const root = process.cwd();
const functionsDir = join(root, 'functions');
const outDir = join(root, 'dist', 'functions');
const metafilePath = join(outDir, 'metafile.json');
const thisScript = join(root, 'scripts', 'build-functions.ts');
const optionsModule = join(root, 'scripts', 'function-bundle-options.ts');

const options: BuildOptions = {
  ...FUNCTION_BUNDLE_OPTIONS,
  outdir: outDir,
  outbase: functionsDir,
  outExtension: { '.js': '.mjs' },
};

const batchFunctionsDir = join(functionsDir, 'batch') + sep;

/**
 * The batch bundles' externals: the whole SDK bundled, client-lambda too (only the local shard
 * plan under serverless-offline calls it, but esbuild hoists its import to the bundle's top, so
 * an external one would load from the runtime's SDK at every INIT).
 */
const BATCH_EXTERNAL_PACKAGES = EXTERNAL_PACKAGES.filter((pkg) => pkg !== '@aws-sdk/*');

/** Every `*-handler.ts` under functions/, as absolute paths, sorted. */
function findHandlerEntries(dir = functionsDir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('-handler.ts') && !file.endsWith('.test.ts'))
    .map((file) => join(dir, file))
    .sort();
}

function isUpToDate(entries: readonly string[]): boolean {
  if (!existsSync(metafilePath)) return false;
  const previous = JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile & { entries?: string[] };
  const relEntries = entries.map((e) => relative(root, e));
  if (JSON.stringify(previous.entries) !== JSON.stringify(relEntries)) return false;
  const outputs = Object.keys(previous.outputs).map((o) => resolve(root, o));
  if (outputs.some((o) => !existsSync(o))) return false;
  const oldestOutput = Math.min(...outputs.map((o) => statSync(o).mtimeMs));
  // This script (its options) and the lock file (dependency versions) count as inputs too.
  const inputs = [...Object.keys(previous.inputs).map((i) => resolve(root, i)), thisScript, optionsModule, join(root, 'package-lock.json')];
  return inputs.every((i) => existsSync(i) && statSync(i).mtimeMs <= oldestOutput);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} kB`;
}

/**
 * The kernel WASM modules ship inside the function zip, beside the bundle
 * (dist/functions/kernels; HOTPATH_KERNELS_DIR defaults there on Lambda): release and threads
 * builds only, a few tens of kB. Copies only what changed.
 */
function copyKernelModules(): number {
  const source = join(root, 'kernels', 'build');
  const target = join(outDir, 'kernels');
  if (!existsSync(source)) return 0;
  mkdirSync(target, { recursive: true });
  const files = readdirSync(source).filter((f) => f.endsWith('.wasm') && !f.endsWith('.debug.wasm'));
  for (const file of files) {
    const from = join(source, file);
    const to = join(target, file);
    if (!existsSync(to) || statSync(to).mtimeMs < statSync(from).mtimeMs || statSync(to).size !== statSync(from).size) copyFileSync(from, to);
  }
  return files.length;
}

/**
 * `serverless invoke local` require()s `<handler path>`, then `<handler path>.cjs`, and never
 * looks for `.mjs`; the bundles are ESM with top-level await (INIT), which require() cannot
 * load. So each bundle gets a CommonJS loader beside it that imports the bundle on the first
 * call and hands every call to its export. Lambda and serverless-offline try `.js`, `.mjs`,
 * then `.cjs`, so they keep loading the bundle itself, INIT included; the zips hold only `.mjs`.
 */
function writeInvokeLocalLoaders(metafile: Metafile): void {
  for (const [output, meta] of Object.entries(metafile.outputs)) {
    if (!output.endsWith('.mjs') || meta.entryPoint === undefined) continue;
    const bundle = basename(output);
    const lines = [
      "'use strict';",
      `// Written by scripts/build-functions.ts: loads ${bundle} for \`serverless invoke local\`, which looks for .js and .cjs only.`,
      'let bundle;',
      ...meta.exports.map(
        (name) => `exports.${name} = async function ${name}(event, context) { return (await (bundle ??= import('./${bundle}'))).${name}(event, context); };`,
      ),
      '',
    ];
    const loader = resolve(root, output.replace(/\.mjs$/, '.cjs'));
    const content = lines.join('\n');
    if (existsSync(loader) && readFileSync(loader, 'utf8') === content) continue;
    writeFileSync(loader, content);
  }
}

async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  const kernelModules = copyKernelModules();
  console.log(`build:functions: ${kernelModules} kernel module(s) in ${relative(root, join(outDir, 'kernels'))}${sep}`);
  const entries = findHandlerEntries();
  if (entries.length === 0) {
    console.log('build:functions: no functions/**/*-handler.ts entry points; nothing to bundle');
    return;
  }
  if (!force && isUpToDate(entries)) {
    writeInvokeLocalLoaders(JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile);
    console.log(`build:functions: ${entries.length} bundle(s) up to date in ${relative(root, outDir)}${sep}`);
    return;
  }

  const started = performance.now();
  const batchEntries = entries.filter((e) => e.startsWith(batchFunctionsDir));
  const otherEntries = entries.filter((e) => !e.startsWith(batchFunctionsDir));
  const builds = await Promise.all([
    otherEntries.length > 0 ? build({ ...options, metafile: true, entryPoints: otherEntries }) : undefined,
    batchEntries.length > 0 ? build({ ...options, external: BATCH_EXTERNAL_PACKAGES, metafile: true, entryPoints: batchEntries }) : undefined,
  ]);
  const metafile: Metafile = { inputs: {}, outputs: {} };
  for (const result of builds) {
    Object.assign(metafile.inputs, result?.metafile.inputs);
    Object.assign(metafile.outputs, result?.metafile.outputs);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(metafilePath, JSON.stringify({ ...metafile, entries: entries.map((e) => relative(root, e)) }));
  writeInvokeLocalLoaders(metafile);

  const elapsed = performance.now() - started;
  console.log(`build:functions: bundled ${entries.length} function(s) in ${elapsed.toFixed(0)} ms`);
  for (const [output, meta] of Object.entries(metafile.outputs).sort()) {
    console.log(`  ${output.padEnd(48)} ${formatBytes(meta.bytes).padStart(10)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
