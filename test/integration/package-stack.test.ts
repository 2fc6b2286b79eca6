import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LAMBDA_UNZIPPED_LIMIT_BYTES, readFunctionArtifacts, readTemplate, type CfnTemplate, type FunctionArtifacts } from '../../scripts/stack-artifacts';
import { readZipEntries, readZipFile } from '../../scripts/zip-central-directory';
import type { ModelManifest } from '../../lib/models/model-manifest-types';

const repoRoot = resolve(__dirname, '../..');
const PACKAGE_TIMEOUT_MS = 180_000;
const MAX_FUNCTION_ZIP_BYTES = 2 * 1024 * 1024;
/**
 * The served models (iris-classifier, silero-vad, text-detector and the kernel models) are
 * 7.7 MB unzipped; the full build with the benchmark MLPs is 77.7 MB. A margin, not a ceiling
 * for new models: raise it when a served model is added.
 */
const MAX_MODELS_LAYER_UNZIPPED_BYTES = 12 * 1024 * 1024;

const V2_ROUTE_KEYS = [
  'GET /v2',
  'GET /v2/health/live',
  'GET /v2/health/ready',
  'GET /v2/models',
  'GET /v2/models/{model}',
  'GET /v2/models/{model}/ready',
  'POST /v2/models/{model}/infer',
  'GET /v2/models/{model}/versions/{version}',
  'GET /v2/models/{model}/versions/{version}/ready',
  'POST /v2/models/{model}/versions/{version}/infer',
  'ANY /v2/{proxy+}',
];

const execFileAsync = promisify(execFile);

/** Runs `npm run package`'s packaging step (the build already ran in `npm test`) into `outDir`. */
async function packageStack(outDir: string, serverlessArgs: string[] = []): Promise<void> {
  try {
    // HOTPATH_MODELS unset: the stack's default selection (the manifest's serveByDefault models).
    const env = { ...process.env };
    delete env.HOTPATH_MODELS;
    await execFileAsync(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'scripts/package-stack.ts', '--out', outDir, ...serverlessArgs], {
      cwd: repoRoot,
      env,
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`scripts/package-stack.ts failed: ${(error as Error).message}\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

function resourcesOfType(template: CfnTemplate, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties]);
}

describe('serverless package (offline, default parameters)', () => {
  let outDir: string;
  let template: CfnTemplate;
  let artifacts: FunctionArtifacts[];

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'hotpath-package-'));
    await packageStack(outDir);
    template = readTemplate(outDir);
    artifacts = readFunctionArtifacts(outDir, template);
  }, PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('defines the api function on nodejs22.x arm64 with the bundled handler', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');

    expect(functions.map(([id]) => id)).toEqual(['ApiLambdaFunction']);
    const [, api] = functions[0]!;
    expect(api).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'dist/functions/http/api-handler.handler',
      MemorySize: 1769,
      Timeout: 29,
      TracingConfig: { Mode: 'Active' },
    });
    const env = (api.Environment as { Variables: Record<string, string> }).Variables;
    expect(env).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'hotpath',
      HOTPATH_MODELS_DIR: '/opt/models',
      HOTPATH_ORT_WEB_DIR: '/opt/nodejs/node_modules/onnxruntime-web',
    });
    // No key on Lambda (an empty value means none): API Gateway's authorizer guards the routes.
    expect(env.HOTPATH_API_KEY ?? '').toBe('');
  });

  it('routes every /v2 route to the function behind the IAM authorizer', () => {
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, route]) => route);
    const [[integrationId, integration]] = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration') as [[string, Record<string, unknown>]];

    expect(routes.map((route) => route.RouteKey).sort()).toEqual([...V2_ROUTE_KEYS].sort());
    for (const route of routes) {
      expect({ route: route.RouteKey, auth: route.AuthorizationType }).toEqual({ route: route.RouteKey, auth: 'AWS_IAM' });
      expect(JSON.stringify(route.Target)).toContain(integrationId);
    }
    expect(JSON.stringify(integration.IntegrationUri)).toContain('ApiLambdaFunction');
    expect(integration.PayloadFormatVersion).toBe('2.0');
    expect(resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer')).toEqual([]);
  });

  it('attaches the runtime layer and the models layer', () => {
    const [api] = artifacts;

    expect(api!.layers.map((layer) => layer.logicalId).sort()).toEqual(['ModelsLambdaLayer', 'OnnxruntimeWebLambdaLayer']);
    const runtimeFiles = readZipEntries(join(outDir, 'onnxruntimeWeb.zip')).map((e) => e.name);
    expect(runtimeFiles).toContain('nodejs/node_modules/onnxruntime-web/package.json');
    expect(runtimeFiles.some((name) => name.startsWith('nodejs/node_modules/onnxruntime-web/') && name.endsWith('.wasm'))).toBe(true);
  });

  it('ships only the served models in the models layer, with a manifest listing exactly those', () => {
    // Prepare: every model the local build holds, and the ones the function serves by default.
    const built = JSON.parse(readFileSync(join(repoRoot, 'layers/models/build/models/manifest.json'), 'utf8')) as ModelManifest;
    const served = built.models.filter((model) => model.serveByDefault);
    const zip = join(outDir, 'models.zip');

    // Act
    const files = readZipEntries(zip).map((e) => e.name).sort();
    const manifest = JSON.parse(readZipFile(zip, 'models/manifest.json').toString('utf8')) as ModelManifest;

    // Assess
    expect(served.map((m) => m.name)).toEqual(expect.arrayContaining(['iris-classifier', 'silero-vad', 'text-detector']));
    expect(built.models.filter((m) => !m.serveByDefault).map((m) => m.name)).toEqual(expect.arrayContaining(['mlp-small', 'mlp-medium', 'mlp-large']));
    expect(files).toEqual(['models/manifest.json', ...served.map((m) => `models/${m.file}`)].sort());
    expect(manifest).toEqual({ ...built, models: served });
    for (const model of served) {
      const bytes = readZipFile(zip, `models/${model.file}`);
      expect({ model: model.name, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({
        model: model.name, bytes: model.bytes, sha256: model.sha256,
      });
    }
  });

  it('keeps the models layer to the served models\' size, without the benchmark MLPs', () => {
    const [api] = artifacts;
    const models = api!.layers.find((layer) => layer.logicalId === 'ModelsLambdaLayer')!;
    const built = JSON.parse(readFileSync(join(repoRoot, 'layers/models/build/models/manifest.json'), 'utf8')) as ModelManifest;
    const servedBytes = built.models.filter((m) => m.serveByDefault).reduce((sum, m) => sum + m.bytes, 0);
    const manifestBytes = readZipEntries(join(outDir, 'models.zip')).find((e) => e.name === 'models/manifest.json')!.uncompressedBytes;

    expect(models.unzippedBytes).toBe(servedBytes + manifestBytes);
    expect(models.unzippedBytes).toBeLessThan(MAX_MODELS_LAYER_UNZIPPED_BYTES);
    expect(models.zippedBytes).toBeLessThan(models.unzippedBytes);
  });

  it('ships only the bundle, its source map and the kernel modules in the function zip, under 2 MB', () => {
    const [api] = artifacts;
    const files = readZipEntries(join(outDir, api!.code.zip)).map((e) => e.name).sort();
    const kernelModules = readdirSync(join(process.cwd(), 'kernels/build'))
      .filter((f) => f.endsWith('.wasm') && !f.endsWith('.debug.wasm'))
      .map((f) => `dist/functions/kernels/${f}`);

    expect(kernelModules).toContain('dist/functions/kernels/distances.wasm');
    expect(files).toEqual(['dist/functions/http/api-handler.mjs', 'dist/functions/http/api-handler.mjs.map', ...kernelModules].sort());
    expect(api!.code.zippedBytes).toBeLessThan(MAX_FUNCTION_ZIP_BYTES);
    expect(api!.code.unzippedBytes).toBeLessThan(MAX_FUNCTION_ZIP_BYTES);
  });

  it("keeps code plus layers within Lambda's 250 MB unzipped limit", () => {
    for (const fn of artifacts) expect(fn.totalUnzippedBytes).toBeLessThanOrEqual(LAMBDA_UNZIPPED_LIMIT_BYTES);
  });

  it('grants the function role nothing beyond CloudWatch Logs and X-Ray writes', () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    const actions = roles.flatMap(([, role]) =>
      (role.Policies as { PolicyDocument: { Statement: { Action: string[] }[] } }[]).flatMap((policy) =>
        policy.PolicyDocument.Statement.flatMap((statement) => statement.Action),
      ),
    );

    expect(roles).toHaveLength(1);
    expect(new Set(actions)).toEqual(
      new Set(['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
    );
  });
});

describe('serverless package (offline, --param="auth=jwt")', () => {
  let outDir: string;
  let template: CfnTemplate;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'hotpath-package-jwt-'));
    await packageStack(outDir, ['--param=auth=jwt', '--param=jwtIssuer=https://issuer.example.com/', '--param=jwtAudience=hotpath-clients']);
    template = readTemplate(outDir);
  }, PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('puts every route behind one JWT authorizer with the given issuer and audience', () => {
    const authorizers = resourcesOfType(template, 'AWS::ApiGatewayV2::Authorizer');
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, route]) => route);

    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(authorizer).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://issuer.example.com/', Audience: ['hotpath-clients'] },
    });
    expect(routes).toHaveLength(V2_ROUTE_KEYS.length);
    for (const route of routes) {
      expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
    }
  });
});

describe('serverless package (offline) with a HOTPATH_MODELS the models layer was not built for', () => {
  it('fails before making any zip, saying which selection to build the layers for', async () => {
    // Prepare: straight `serverless package` (package-stack.ts would relink the layer first).
    const outDir = mkdtempSync(join(tmpdir(), 'hotpath-package-mismatch-'));
    const env = { ...process.env, HOTPATH_MODELS: 'mlp-small', HOTPATH_OFFLINE_PACKAGE: '1', SLS_TELEMETRY_DISABLED: '1' };

    // Act
    const run = execFileAsync(process.execPath, [join(repoRoot, 'node_modules/serverless/bin/serverless.js'), 'package', '--package', outDir], {
      cwd: repoRoot, env, timeout: PACKAGE_TIMEOUT_MS,
    });

    // Assess
    try {
      await expect(run).rejects.toMatchObject({
        stdout: expect.stringContaining(
          "function 'api' serves HOTPATH_MODELS='mlp-small' but layer 'models' (layers/models/build-production) was built for 'default'; run `HOTPATH_MODELS='mlp-small' npm run build:layers` first",
        ),
      });
      expect(readdirSync(outDir).filter((f) => f.endsWith('.zip'))).toEqual([]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }, PACKAGE_TIMEOUT_MS);
});
