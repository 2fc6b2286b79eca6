import type { BuildOptions } from 'esbuild';

/** Packages the Lambda environment provides: the runtime layer, the GPU task, the Node.js runtime. */
export const EXTERNAL_PACKAGES = ['onnxruntime-web', 'onnxruntime-node', '@aws-sdk/*'];

/**
 * CommonJS dependencies inside an ESM bundle call `require`, `__filename` and `__dirname`,
 * which ESM does not define; the banner recreates them from `import.meta.url`.
 */
export const CJS_SHIM_BANNER = [
  "import { createRequire as __hotpathCreateRequire } from 'node:module';",
  "import { fileURLToPath as __hotpathFileURLToPath } from 'node:url';",
  "import { dirname as __hotpathDirname } from 'node:path';",
  'const require = __hotpathCreateRequire(import.meta.url);',
  'const __filename = __hotpathFileURLToPath(import.meta.url);',
  'const __dirname = __hotpathDirname(__filename);',
].join('\n');

/**
 * The esbuild options every Lambda function bundle is built with (`npm run build:functions`
 * and the cold-start bench's bundles alike), without entry points and output paths.
 */
export const FUNCTION_BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  // Lambda runs nodejs22.x; nothing past node20 syntax is emitted for this code, so the
  // bundles also load under node20 (the development machines).
  target: 'node22',
  minify: true,
  // Minified identifiers, but class and function names kept: error names in logs
  // (`InvalidRequestError`, `ModelVerificationError`) and stack frames stay readable.
  // Costs 14.7 kB of bundle (232.5 → 247.2 kB, `npm run build:functions`).
  keepNames: true,
  // Linked maps, read by NODE_OPTIONS=--enable-source-maps; without sourcesContent they
  // map stack traces but stay a fraction of the bundle's size.
  sourcemap: 'linked',
  sourcesContent: false,
  external: EXTERNAL_PACKAGES,
  // Prefer the ESM entry of dual packages (middy, Powertools) so tree shaking works.
  mainFields: ['module', 'main'],
  banner: { js: CJS_SHIM_BANNER },
  legalComments: 'none',
  logLevel: 'warning',
};
