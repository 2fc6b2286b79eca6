import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface BuildRuntimeLayerOptions {
  /** The installed packages to take files from (the repo's node_modules). */
  readonly nodeModulesDir: string;
  /** The layer root: gets `nodejs/node_modules/{onnxruntime-web,onnxruntime-common}`. */
  readonly layerDir: string;
  readonly log?: (line: string) => void;
}

export interface RuntimeLayerReport {
  readonly files: number;
  readonly copied: number;
  readonly bytes: number;
}

/**
 * The onnxruntime-web files Node needs: the Node entry (CommonJS and ESM) and the one WASM
 * build it loads (SIMD + threads, no JSEP/JSPI/asyncify). The browser bundles, WebGL/WebGPU
 * builds and source maps (about 125 MB) stay out.
 */
const ORT_WEB_FILES = ['dist/ort.node.min.js', 'dist/ort.node.min.mjs', 'dist/ort-wasm-simd-threaded.wasm', 'dist/ort-wasm-simd-threaded.mjs'];

/**
 * Assembles the runtime layer in the layout Lambda mounts at /opt
 * (`/opt/nodejs/node_modules/onnxruntime-web`, on NODE_PATH). The Node entry requires
 * `onnxruntime-common` (it is not bundled in), so its CommonJS and ESM builds go beside it,
 * without types and source maps. Files are copied only when size or mtime differ.
 */
export function buildRuntimeLayer(options: BuildRuntimeLayerOptions): RuntimeLayerReport {
  const { nodeModulesDir, layerDir, log = () => {} } = options;
  const targetModules = join(layerDir, 'nodejs', 'node_modules');
  const webSource = join(nodeModulesDir, 'onnxruntime-web');
  const commonSource = join(nodeModulesDir, 'onnxruntime-common');
  const webPackage = readPackage(webSource);
  const commonPackage = readPackage(commonSource);
  if (webPackage.dependencies?.['onnxruntime-common'] !== commonPackage.version) {
    throw new Error(
      `onnxruntime-web ${webPackage.version} needs onnxruntime-common ${webPackage.dependencies?.['onnxruntime-common']}, ` +
        `but node_modules has ${commonPackage.version}; run npm ci`,
    );
  }

  const wanted = new Map<string, string>();
  for (const file of ORT_WEB_FILES) wanted.set(join(targetModules, 'onnxruntime-web', file), join(webSource, file));
  for (const flavour of ['cjs', 'esm']) {
    const dir = join(commonSource, 'dist', flavour);
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.js') || file === 'package.json') wanted.set(join(targetModules, 'onnxruntime-common', 'dist', flavour, file), join(dir, file));
    }
  }

  let copied = 0;
  for (const [target, source] of wanted) if (copyIfChanged(source, target)) copied++;
  const packageFiles = new Map<string, string>([
    [join(targetModules, 'onnxruntime-web', 'package.json'), `${JSON.stringify(trimmedWebPackage(webPackage), null, 2)}\n`],
    [join(targetModules, 'onnxruntime-common', 'package.json'), `${JSON.stringify(trimmedCommonPackage(commonPackage), null, 2)}\n`],
  ]);
  for (const [target, content] of packageFiles) if (writeIfChanged(target, content)) copied++;

  const keep = new Set([...wanted.keys(), ...packageFiles.keys()]);
  const removed = removeOtherFiles(layerDir, keep);
  const bytes = [...keep].reduce((sum, file) => sum + statSync(file).size, 0);
  log(`runtime layer: ${keep.size} files, ${(bytes / 1e6).toFixed(2)} MB (${copied} copied, ${removed} removed) in ${relative(process.cwd(), layerDir) || layerDir}`);
  return { files: keep.size, copied, bytes };
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly dependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  const path = join(dir, 'package.json');
  if (!existsSync(path)) throw new Error(`'${path}' is missing; run npm ci`);
  return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
}

/** Only the Node entry points: resolving `onnxruntime-web` from the layer can only reach files that are there. */
function trimmedWebPackage(pkg: PackageJson): object {
  return {
    name: pkg.name,
    version: pkg.version,
    license: pkg.license,
    description: 'onnxruntime-web, Node entry and WASM-SIMD build only (hotpath runtime layer)',
    main: 'dist/ort.node.min.js',
    exports: {
      '.': { import: './dist/ort.node.min.mjs', require: './dist/ort.node.min.js' },
      './ort-wasm-simd-threaded.wasm': './dist/ort-wasm-simd-threaded.wasm',
      './ort-wasm-simd-threaded.mjs': './dist/ort-wasm-simd-threaded.mjs',
    },
    dependencies: { 'onnxruntime-common': pkg.dependencies?.['onnxruntime-common'] },
  };
}

function trimmedCommonPackage(pkg: PackageJson): object {
  return {
    name: pkg.name,
    version: pkg.version,
    license: pkg.license,
    type: 'module',
    main: 'dist/cjs/index.js',
    exports: { require: './dist/cjs/index.js', import: './dist/esm/index.js' },
  };
}

function copyIfChanged(source: string, target: string): boolean {
  const from = statSync(source);
  if (existsSync(target)) {
    const to = statSync(target);
    // utimes round-trips mtime through float seconds: equal within 2 ms is the same file.
    if (to.size === from.size && Math.abs(to.mtimeMs - from.mtimeMs) < 2) return false;
  }
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  utimesSync(target, from.atime, from.mtime);
  return true;
}

function writeIfChanged(target: string, content: string): boolean {
  if (existsSync(target) && readFileSync(target, 'utf8') === content) return false;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  return true;
}

/** Removes files a previous build left that are no longer wanted (e.g. after an upgrade). */
function removeOtherFiles(dir: string, keep: ReadonlySet<string>): number {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += removeOtherFiles(path, keep);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (!keep.has(path)) {
      rmSync(path);
      removed++;
    }
  }
  return removed;
}
