import { build } from 'esbuild';
import { join } from 'node:path';
import { FUNCTION_BUNDLE_OPTIONS } from '../../scripts/function-bundle-options';

export type BundleVariant = 'min' | 'plain';

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
      ...FUNCTION_BUNDLE_OPTIONS,
      minify: variant === 'min',
    });
    paths[variant] = outfile;
  }
  return paths;
}
