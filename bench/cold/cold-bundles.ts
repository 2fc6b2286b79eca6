import { build } from 'esbuild';
import { join } from 'node:path';

export type BundleVariant = 'min' | 'plain';

const CJS_SHIM_BANNER = [
  "import { createRequire as __hotpathCreateRequire } from 'node:module';",
  "import { fileURLToPath as __hotpathFileURLToPath } from 'node:url';",
  "import { dirname as __hotpathDirname } from 'node:path';",
  'const require = __hotpathCreateRequire(import.meta.url);',
  'const __filename = __hotpathFileURLToPath(import.meta.url);',
  'const __dirname = __hotpathDirname(__filename);',
].join('\n');

/**
 * Bundles functions/http/api-handler.ts the way `npm run build:functions` does (same
 * externals, banner, target, linked source map), once minified and once not, into
 * dist/bench-cold/<variant>/api-handler.mjs. Returns the bundle path per variant.
 */
export async function buildColdBundles(root: string, variants: readonly BundleVariant[]): Promise<Record<BundleVariant, string>> {
  const paths = {} as Record<BundleVariant, string>;
  for (const variant of variants) {
    const outfile = join(root, 'dist', 'bench-cold', variant, 'api-handler.mjs');
    await build({
      entryPoints: [join(root, 'functions/http/api-handler.ts')],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      minify: variant === 'min',
      sourcemap: 'linked',
      sourcesContent: false,
      external: ['onnxruntime-web', 'onnxruntime-node', '@aws-sdk/*'],
      mainFields: ['module', 'main'],
      banner: { js: CJS_SHIM_BANNER },
      legalComments: 'none',
      logLevel: 'warning',
    });
    paths[variant] = outfile;
  }
  return paths;
}
