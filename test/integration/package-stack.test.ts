import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LAMBDA_UNZIPPED_LIMIT_BYTES, readFunctionArtifacts, readTemplate, type CfnTemplate, type FunctionArtifacts } from '../../scripts/stack-artifacts';
import { readZipEntries } from '../../scripts/zip-central-directory';

const repoRoot = resolve(__dirname, '../..');
const PACKAGE_TIMEOUT_MS = 180_000;
const MAX_FUNCTION_ZIP_BYTES = 2 * 1024 * 1024;

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
    await execFileAsync(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'scripts/package-stack.ts', '--out', outDir, ...serverlessArgs], {
      cwd: repoRoot,
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

  it('attaches the runtime layer and the models layer holding every manifest model', () => {
    const [api] = artifacts;
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'layers/models/build/models/manifest.json'), 'utf8')) as { models: { file: string }[] };

    expect(api!.layers.map((layer) => layer.logicalId).sort()).toEqual(['ModelsLambdaLayer', 'OnnxruntimeWebLambdaLayer']);
    const runtimeFiles = readZipEntries(join(outDir, 'onnxruntimeWeb.zip')).map((e) => e.name);
    expect(runtimeFiles).toContain('nodejs/node_modules/onnxruntime-web/package.json');
    expect(runtimeFiles.some((name) => name.startsWith('nodejs/node_modules/onnxruntime-web/') && name.endsWith('.wasm'))).toBe(true);
    const modelFiles = readZipEntries(join(outDir, 'models.zip')).map((e) => e.name);
    expect(modelFiles).toContain('models/manifest.json');
    for (const model of manifest.models) expect(modelFiles).toContain(`models/${model.file}`);
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
