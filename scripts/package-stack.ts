/**
 * `npm run package` (after `npm run build`): `serverless package` with no AWS account.
 * First links the production models layer for HOTPATH_MODELS (only the models the function
 * serves; layers/models/build-production), so the layer always matches the function's
 * selection. Writes the function and layer zips and the CloudFormation templates to `.serverless/`,
 * then prints each function's artifact sizes against Lambda's 250 MB unzipped limit and
 * fails when a function is over it. `--out DIR` writes elsewhere than `.serverless/`
 * (the package test uses a temporary folder); other arguments go to `serverless package`.
 *
 * @example
 * npm run package
 * npm run package -- --out /tmp/hotpath-package
 * npm run package -- --stage prod --param="auth=jwt" --param="jwtIssuer=https://issuer/" --param="jwtAudience=api"
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MODELS_DIR, PRODUCTION_MODELS_LAYER_DIR, S3_UPLOAD_DIR } from '../layers/layer-paths';
import { buildProductionModelsLayer, servedModelsFromEnvironment } from '../layers/models/build-production-models-layer';
import { moveModelsToS3, s3MovesFromEnvironment } from '../layers/models/model-repository/s3-models';
import type { ModelManifest } from '../lib/models/model-manifest-types';
import { s3ModelsStackParams } from './s3-models-stack-params';
import { formatBytes, LAMBDA_UNZIPPED_LIMIT_BYTES, readFunctionArtifacts } from './stack-artifacts';

const root = process.cwd();

/** Splits `--out DIR` / `--out=DIR` off the arguments meant for `serverless package`. */
function readArgs(argv: readonly string[]): { packageDir: string; serverlessArgs: string[] } {
  let packageDir = join(root, '.serverless');
  const serverlessArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--out' && argv[i + 1] !== undefined) packageDir = resolve(root, argv[++i] as string);
    else if (arg.startsWith('--out=')) packageDir = resolve(root, arg.slice('--out='.length));
    else serverlessArgs.push(arg);
  }
  return { packageDir, serverlessArgs };
}

function runServerlessPackage(packageDir: string, extraArgs: readonly string[]): void {
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [resolve(root, 'node_modules/serverless/bin/serverless.js'), 'package', '--package', packageDir, ...extraArgs],
    {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        // serverless-plugins/offline-layer-check.js: skip the describeStacks call per layer.
        HOTPATH_OFFLINE_PACKAGE: '1',
        // Fake credentials: packaging reads no account, but the AWS provider wants credentials present.
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'offline',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'offline',
        SLS_TELEMETRY_DISABLED: '1',
      },
    },
  );
  if (result.status !== 0) {
    throw new Error(`serverless package failed (${result.status ?? result.signal})`);
  }
  console.log(`package: serverless package took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function reportSizes(packageDir: string): boolean {
  let withinLimits = true;
  for (const fn of readFunctionArtifacts(packageDir)) {
    console.log(`${fn.logicalId}:`);
    for (const artifact of [fn.code, ...fn.layers]) {
      console.log(`  ${artifact.zip.padEnd(24)} ${formatBytes(artifact.zippedBytes).padStart(10)} zipped ${formatBytes(artifact.unzippedBytes).padStart(10)} unzipped`);
    }
    const over = fn.totalUnzippedBytes > LAMBDA_UNZIPPED_LIMIT_BYTES;
    withinLimits &&= !over;
    console.log(`  ${'total (code + layers)'.padEnd(42)} ${formatBytes(fn.totalUnzippedBytes).padStart(10)} unzipped of ${formatBytes(LAMBDA_UNZIPPED_LIMIT_BYTES)}${over ? '  OVER THE LIMIT' : ''}`);
  }
  return withinLimits;
}

function main(): void {
  const { packageDir, serverlessArgs } = readArgs(process.argv.slice(2));
  const builtManifest = join(MODELS_DIR, 'manifest.json');
  if (!existsSync(builtManifest)) throw new Error(`${builtManifest} is missing; run npm run build (npm run package does)`);
  // The build's manifest as written, so the layer's manifest is exactly a subset of it; with
  // HOTPATH_S3_MODELS, those models' artifacts marked for S3 (s3Prefix) and left out of the layer.
  const built = JSON.parse(readFileSync(builtManifest, 'utf8')) as ModelManifest;
  const s3 = s3MovesFromEnvironment();
  buildProductionModelsLayer({
    manifest: s3.names.length > 0
      ? moveModelsToS3(built, { names: s3.names, prefix: s3.prefix!, sourceModelsDir: MODELS_DIR, uploadDir: S3_UPLOAD_DIR, log: (line) => console.log(`package: ${line}`) }).manifest
      : built,
    sourceModelsDir: MODELS_DIR,
    layerDir: PRODUCTION_MODELS_LAYER_DIR,
    selection: servedModelsFromEnvironment(),
    log: (line) => console.log(`package: ${line}`),
  });
  // With S3 models, the role's s3:GetObject on their keys (serverless.yml, --param=s3Models=true).
  runServerlessPackage(packageDir, [...s3ModelsStackParams(s3.names, s3.prefix), ...serverlessArgs]);
  if (!reportSizes(packageDir)) {
    console.error('package: a function is over Lambda\'s 250 MB unzipped limit (code + layers)');
    process.exit(1);
  }
}

try {
  main();
} catch (error) {
  console.error(`package: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
