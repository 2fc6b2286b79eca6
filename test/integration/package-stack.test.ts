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

/** What --param="gpuTask=true" needs (serverless-plugins/gpu-task-params-check.js). */
const GPU_TASK_VPC = 'vpc-0123456789abcdef0';
const GPU_TASK_SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const GPU_TASK_PARAMS = ['--param=gpuTask=true', `--param=vpcId=${GPU_TASK_VPC}`, `--param=subnetIds=${GPU_TASK_SUBNETS.join(',')}`, '--param=gpuTaskImageTag=2026.12.1'];
/**
 * gpu-task/Dockerfile's HOTPATH_PORT. A string in the template (one value serves the integer
 * properties and the container's environment); CloudFormation reads integers from strings, as it
 * does from every Ref to a parameter.
 */
const GPU_TASK_PORT = 8000;
/** Resource types only the gpuTask variant adds. */
const GPU_TASK_TYPE_PREFIXES = ['AWS::ECS::', 'AWS::EC2::', 'AWS::ElasticLoadBalancingV2::', 'AWS::AutoScaling::'];

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
    // A model's kernel plan ships beside its ONNX graph.
    expect(files).toEqual(['models/manifest.json', ...served.flatMap((m) => [`models/${m.file}`, ...(m.kernel ? [`models/${m.kernel.file}`] : [])])].sort());
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
    const servedBytes = built.models.filter((m) => m.serveByDefault).reduce((sum, m) => sum + m.bytes + (m.kernel?.bytes ?? 0), 0);
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

  it('has no GPU task, no VPC and no remote route', () => {
    const [[, api]] = resourcesOfType(template, 'AWS::Lambda::Function') as [[string, Record<string, unknown>]];
    const types = Object.values(template.Resources).map((resource) => resource.Type);

    expect(types.filter((type) => GPU_TASK_TYPE_PREFIXES.some((prefix) => type.startsWith(prefix)))).toEqual([]);
    expect(api.VpcConfig).toBeUndefined();
    expect((api.Environment as { Variables: Record<string, string> }).Variables).not.toHaveProperty('HOTPATH_REMOTE_URL');
  });

  it('grants the function role nothing beyond CloudWatch Logs and X-Ray writes', () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    const actions = roles.flatMap(([, role]) =>
      (role.Policies as { PolicyDocument: { Statement: { Action: string[] }[] } }[]).flatMap((policy) =>
        policy.PolicyDocument.Statement.flatMap((statement) => statement.Action),
      ),
    );

    expect(roles).toHaveLength(1);
    // No s3:GetObject either: only --param="s3Models=true" (S3 models) adds it.
    expect(new Set(actions)).toEqual(
      new Set(['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
    );
  });
});

/** The grant --param="s3Models=true" adds for models served from S3 (what package-stack.ts passes for HOTPATH_S3_PREFIX=s3://hotpath-models-test/models/v1/). */
const S3_MODELS_PARAMS = ['--param=s3Models=true', '--param=s3ModelsBucket=hotpath-models-test', '--param=s3ModelsKeyPrefix=models/v1/'];

// One packaging run for both variants (each run takes a while): they touch different resources.
describe('serverless package (offline, --param="auth=jwt" and --param="s3Models=true")', () => {
  let outDir: string;
  let template: CfnTemplate;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'hotpath-package-jwt-'));
    await packageStack(outDir, ['--param=auth=jwt', '--param=jwtIssuer=https://issuer.example.com/', '--param=jwtAudience=hotpath-clients', ...S3_MODELS_PARAMS]);
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

  it("grants the function role s3:GetObject on the S3 models' key prefix only, and needs no S3 variable on AWS", () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    const [[, api]] = resourcesOfType(template, 'AWS::Lambda::Function') as [[string, Record<string, unknown>]];
    const statements = roles.flatMap(([, role]) => (role.Policies as { PolicyDocument: { Statement: PolicyStatement[] } }[]).flatMap((policy) => policy.PolicyDocument.Statement));
    const s3 = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));

    expect(roles.map(([id]) => id)).toEqual(['IamRoleLambdaExecution']);
    expect(s3).toEqual([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::hotpath-models-test/models/v1/*' }]);
    expect(api.Role).toEqual({ 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] });
    expect(Object.keys((api.Environment as { Variables: Record<string, string> }).Variables).filter((name) => name.startsWith('HOTPATH_S3'))).toEqual([]);
  });
});

interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

interface IamRoleProperties {
  readonly AssumeRolePolicyDocument: { Statement: { Principal: { Service: string }; Action: string }[] };
  readonly Policies?: { PolicyDocument: { Statement: PolicyStatement[] } }[];
  readonly ManagedPolicyArns?: unknown[];
}

interface IngressRule {
  readonly IpProtocol: string;
  readonly FromPort?: number | string;
  readonly ToPort?: number | string;
  readonly SourceSecurityGroupId?: unknown;
  readonly CidrIp?: string;
  readonly CidrIpv6?: string;
  readonly SourcePrefixListId?: string;
}

/** Every ingress rule of a security group: its inline SecurityGroupIngress and the standalone AWS::EC2::SecurityGroupIngress resources on it. */
function ingressOf(template: CfnTemplate, groupId: string): IngressRule[] {
  const inline = (template.Resources[groupId]!.Properties.SecurityGroupIngress as IngressRule[] | undefined) ?? [];
  const standalone = resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')
    .filter(([, rule]) => JSON.stringify(rule.GroupId) === JSON.stringify(groupIdOf(groupId)))
    .map(([, rule]) => rule as unknown as IngressRule);
  return [...inline, ...standalone];
}

function groupIdOf(logicalId: string): unknown {
  return { 'Fn::GetAtt': [logicalId, 'GroupId'] };
}

/** A rule as a comparable value: protocol, ports as numbers, and its one source. */
function ruleOf(rule: IngressRule & { DestinationSecurityGroupId?: unknown }) {
  return {
    protocol: rule.IpProtocol,
    ports: [Number(rule.FromPort), Number(rule.ToPort)],
    from: rule.SourceSecurityGroupId ?? rule.DestinationSecurityGroupId ?? rule.CidrIp ?? rule.CidrIpv6 ?? rule.SourcePrefixListId,
  };
}

/** The role's inline statements as `effect action resource [condition]` strings, one per action. */
function grantsOf(role: IamRoleProperties): string[] {
  return (role.Policies ?? []).flatMap((policy) =>
    policy.PolicyDocument.Statement.flatMap((statement) =>
      [statement.Action].flat().map((action) => `${statement.Effect} ${action} ${JSON.stringify(statement.Resource)}${statement.Condition ? ` if ${JSON.stringify(statement.Condition)}` : ''}`),
    ),
  ).sort();
}

/** Fn::Split of a literal string, as CloudFormation evaluates it. */
function splitOf(value: unknown): string[] {
  const [delimiter, source] = (value as { 'Fn::Split': [string, string] })['Fn::Split'];
  return source.split(delimiter);
}

/** The batch functions' logical IDs (custom.batchVariants in serverless.yml). */
const BATCH_FUNCTION_IDS = ['BatchAssembleLambdaFunction', 'BatchS3LambdaFunction', 'BatchShardWorkerLambdaFunction', 'BatchSqsLambdaFunction'];
/**
 * The batch zips bundle the AWS SDK (scripts/build-functions.ts): 0.9 MB zipped, 3.4 MB
 * unzipped with the source map (the api zip: 0.3 / 0.9 MB). Under the api's 2 MB zipped
 * ceiling; unzipped, a margin of its own.
 */
const MAX_BATCH_FUNCTION_UNZIPPED_BYTES = 5 * 1024 * 1024;

/** The grants of every role and standalone policy on a role, as `role: effect action resource` strings. */
function grantsByRole(template: CfnTemplate): string[] {
  const inline = resourcesOfType(template, 'AWS::IAM::Role').flatMap(([id, role]) => grantsOf(role as unknown as IamRoleProperties).map((grant) => `${id}: ${grant}`));
  const standalone = resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([, policy]) =>
    (policy.Roles as { Ref: string }[]).flatMap(({ Ref }) => grantsOf({ Policies: [policy] } as unknown as IamRoleProperties).map((grant) => `${Ref}: ${grant}`)),
  );
  return [...inline, ...standalone];
}

describe('serverless package (offline, --param="gpuTask=true" with --param="batch=true")', () => {
  let outDir: string;
  let template: CfnTemplate;
  let resource: (logicalId: string) => Record<string, unknown>;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'hotpath-package-gpu-'));
    // One run for both variants and their combination (the batch functions' GPU hand-off).
    await packageStack(outDir, [...GPU_TASK_PARAMS, '--param=batch=true']);
    template = readTemplate(outDir);
    resource = (logicalId) => {
      expect(template.Resources).toHaveProperty(logicalId);
      return template.Resources[logicalId]!.Properties;
    };
  }, PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('runs the task on EC2 GPU instances: one GPU per container, the ECS GPU AMI, no Fargate', () => {
    const [[, taskDefinition]] = resourcesOfType(template, 'AWS::ECS::TaskDefinition') as [[string, Record<string, unknown>]];
    const [container, ...others] = taskDefinition.ContainerDefinitions as Record<string, unknown>[];
    const launchData = resource('GpuTaskLaunchTemplate').LaunchTemplateData as Record<string, unknown>;

    expect(others).toEqual([]);
    expect(taskDefinition).toMatchObject({ RequiresCompatibilities: ['EC2'], NetworkMode: 'awsvpc' });
    expect(container!.ResourceRequirements).toEqual([{ Type: 'GPU', Value: '1' }]);
    expect(container!.PortMappings).toEqual([{ ContainerPort: String(GPU_TASK_PORT), Protocol: 'tcp' }]);
    expect(container!.Environment).toEqual(expect.arrayContaining([{ Name: 'HOTPATH_PORT', Value: String(GPU_TASK_PORT) }]));
    expect(launchData.ImageId).toBe('{{resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id}}');
    expect(launchData.InstanceType).toBe('g5.xlarge');
    expect(JSON.stringify(template.Resources)).not.toContain('FARGATE');
  });

  it('pulls the image from the ECR repository and tag given as parameters', () => {
    const [container] = resource('GpuTaskDefinition').ContainerDefinitions as Record<string, unknown>[];

    expect(container!.Image).toEqual({
      'Fn::Join': ['', [{ Ref: 'AWS::AccountId' }, '.dkr.ecr.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/hotpath-gpu-task:2026.12.1']],
    });
    expect(container!.LogConfiguration).toEqual({
      LogDriver: 'awslogs',
      Options: { 'awslogs-group': { Ref: 'GpuTaskLogGroup' }, 'awslogs-region': { Ref: 'AWS::Region' }, 'awslogs-stream-prefix': 'gpu-task' },
    });
  });

  it('scales the GPU instances through a capacity provider that can go to zero', () => {
    const provider = resource('GpuTaskCapacityProvider').AutoScalingGroupProvider as Record<string, unknown>;
    const group = resource('GpuTaskAutoScalingGroup');
    const associations = resource('GpuTaskClusterCapacityProviders');
    const service = resource('GpuTaskService');

    expect(provider.AutoScalingGroupArn).toEqual({ Ref: 'GpuTaskAutoScalingGroup' });
    expect(provider.ManagedScaling).toMatchObject({ Status: 'ENABLED', TargetCapacity: 100 });
    expect(group.MinSize).toBe('0');
    expect(group.DesiredCapacity).toBeUndefined();
    expect(associations).toMatchObject({ Cluster: { Ref: 'GpuTaskCluster' }, CapacityProviders: [{ Ref: 'GpuTaskCapacityProvider' }] });
    expect(service).toMatchObject({
      Cluster: { Ref: 'GpuTaskCluster' },
      TaskDefinition: { Ref: 'GpuTaskDefinition' },
      CapacityProviderStrategy: [{ CapacityProvider: { Ref: 'GpuTaskCapacityProvider' }, Weight: 1 }],
    });
    expect(service.LaunchType).toBeUndefined();
  });

  it('puts the service behind an internal load balancer that health-checks readiness on the server port', () => {
    const balancers = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const listener = resource('GpuTaskListener');
    const targets = resource('GpuTaskTargetGroup');
    const service = resource('GpuTaskService');

    expect(balancers).toHaveLength(1);
    expect(balancers[0]![1]).toMatchObject({ Type: 'application', Scheme: 'internal', SecurityGroups: [groupIdOf('GpuTaskLoadBalancerSecurityGroup')] });
    expect(listener).toMatchObject({ LoadBalancerArn: { Ref: 'GpuTaskLoadBalancer' }, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'GpuTaskTargetGroup' } }] });
    expect(Number(listener.Port)).toBe(GPU_TASK_PORT);
    expect(targets).toMatchObject({ TargetType: 'ip', Protocol: 'HTTP', VpcId: GPU_TASK_VPC, HealthCheckPath: '/v2/health/ready', Matcher: { HttpCode: '200' } });
    expect(Number(targets.Port)).toBe(GPU_TASK_PORT);
    expect(service.LoadBalancers).toEqual([{ ContainerName: 'gpu-task', ContainerPort: String(GPU_TASK_PORT), TargetGroupArn: { Ref: 'GpuTaskTargetGroup' } }]);
  });

  it('lets only the functions reach the load balancer, and only the load balancer reach the task, on the server port', () => {
    const groups = resourcesOfType(template, 'AWS::EC2::SecurityGroup').map(([id]) => id).sort();
    const service = resource('GpuTaskService');
    const functionEgress = resource('ApiFunctionSecurityGroup').SecurityGroupEgress as IngressRule[];
    const port = [GPU_TASK_PORT, GPU_TASK_PORT];

    expect(groups).toEqual(['ApiFunctionSecurityGroup', 'GpuTaskInstanceSecurityGroup', 'GpuTaskLoadBalancerSecurityGroup', 'GpuTaskSecurityGroup']);
    expect(ingressOf(template, 'GpuTaskLoadBalancerSecurityGroup').map(ruleOf)).toEqual([{ protocol: 'tcp', ports: port, from: groupIdOf('ApiFunctionSecurityGroup') }]);
    expect(ingressOf(template, 'GpuTaskSecurityGroup').map(ruleOf)).toEqual([{ protocol: 'tcp', ports: port, from: groupIdOf('GpuTaskLoadBalancerSecurityGroup') }]);
    expect(ingressOf(template, 'GpuTaskInstanceSecurityGroup')).toEqual([]);
    expect(ingressOf(template, 'ApiFunctionSecurityGroup')).toEqual([]);
    expect(functionEgress.map(ruleOf)).toEqual([{ protocol: 'tcp', ports: port, from: groupIdOf('GpuTaskLoadBalancerSecurityGroup') }]);
    expect((service.NetworkConfiguration as { AwsvpcConfiguration: { SecurityGroups: unknown } }).AwsvpcConfiguration.SecurityGroups).toEqual([groupIdOf('GpuTaskSecurityGroup')]);
    for (const id of groups) expect({ id, vpc: resource(id).VpcId }).toEqual({ id, vpc: GPU_TASK_VPC });
  });

  it('grants the task execution role only the image pull from its repository and writes to its log group, and the task no role', () => {
    const execution = resource('GpuTaskExecutionRole') as unknown as IamRoleProperties;
    const repository = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':repository/hotpath-gpu-task']] };
    const logGroup = { 'Fn::GetAtt': ['GpuTaskLogGroup', 'Arn'] };

    expect(execution.AssumeRolePolicyDocument.Statement.map((s) => [s.Principal.Service, s.Action])).toEqual([['ecs-tasks.amazonaws.com', 'sts:AssumeRole']]);
    expect(execution.ManagedPolicyArns).toBeUndefined();
    expect(grantsOf(execution)).toEqual([
      `Allow ecr:BatchGetImage ${JSON.stringify(repository)}`,
      'Allow ecr:GetAuthorizationToken "*"',
      `Allow ecr:GetDownloadUrlForLayer ${JSON.stringify(repository)}`,
      `Allow logs:CreateLogStream ${JSON.stringify(logGroup)}`,
      `Allow logs:PutLogEvents ${JSON.stringify(logGroup)}`,
    ]);
    expect(resource('GpuTaskDefinition')).toMatchObject({ ExecutionRoleArn: { 'Fn::GetAtt': ['GpuTaskExecutionRole', 'Arn'] } });
    expect(resource('GpuTaskDefinition').TaskRoleArn).toBeUndefined();
  });

  it("grants the container instances only the ECS agent's calls on this cluster, and no role beyond these three and the batch ones", () => {
    const instance = resource('GpuTaskInstanceRole') as unknown as IamRoleProperties;
    const cluster = JSON.stringify({ 'Fn::GetAtt': ['GpuTaskCluster', 'Arn'] });
    const onCluster = ` if {"ArnEquals":{"ecs:cluster":${cluster}}}`;
    const roles = resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id).sort();

    // The batch functions', the GPU batch job's, and the shard state machine's (serverless-step-functions).
    expect(roles).toEqual(['BatchFunctionRole', 'BatchGpuTaskRole', 'GpuTaskExecutionRole', 'GpuTaskInstanceRole', 'HotpathDashdevDashbatchDashshardsRole', 'IamRoleLambdaExecution']);
    expect(instance.AssumeRolePolicyDocument.Statement.map((s) => [s.Principal.Service, s.Action])).toEqual([['ec2.amazonaws.com', 'sts:AssumeRole']]);
    expect(instance.ManagedPolicyArns).toBeUndefined();
    expect(grantsOf(instance)).toEqual([
      `Allow ecs:DeregisterContainerInstance ${cluster}`,
      'Allow ecs:DiscoverPollEndpoint "*"',
      `Allow ecs:Poll "*"${onCluster}`,
      `Allow ecs:RegisterContainerInstance ${cluster}`,
      `Allow ecs:StartTelemetrySession "*"${onCluster}`,
      `Allow ecs:SubmitAttachmentStateChanges ${cluster}`,
      `Allow ecs:SubmitContainerStateChange ${cluster}`,
      `Allow ecs:SubmitTaskStateChange ${cluster}`,
      `Allow ecs:UpdateContainerInstancesState "*"${onCluster}`,
    ]);
    expect(resource('GpuTaskInstanceProfile').Roles).toEqual([{ Ref: 'GpuTaskInstanceRole' }]);
  });

  it('puts the function in the given subnets behind its security group, with the ENI permissions and no other new grant', () => {
    const [[, api]] = resourcesOfType(template, 'AWS::Lambda::Function') as [[string, Record<string, unknown>]];
    const role = resource('IamRoleLambdaExecution') as unknown as IamRoleProperties;
    const vpcConfig = api.VpcConfig as { SubnetIds: unknown; SecurityGroupIds: unknown };
    const serviceSubnets = (resource('GpuTaskService').NetworkConfiguration as { AwsvpcConfiguration: { Subnets: unknown } }).AwsvpcConfiguration.Subnets;

    expect(splitOf(vpcConfig.SubnetIds)).toEqual(GPU_TASK_SUBNETS);
    expect(vpcConfig.SecurityGroupIds).toEqual([{ Ref: 'ApiFunctionSecurityGroup' }]);
    expect(splitOf(resource('GpuTaskLoadBalancer').Subnets)).toEqual(GPU_TASK_SUBNETS);
    expect(splitOf(serviceSubnets)).toEqual(GPU_TASK_SUBNETS);
    expect(splitOf(resource('GpuTaskAutoScalingGroup').VPCZoneIdentifier)).toEqual(GPU_TASK_SUBNETS);
    expect(role.ManagedPolicyArns).toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }]);
    expect(new Set(grantsOf(role).map((grant) => grant.split(' ')[1]))).toEqual(
      new Set(['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords']),
    );
  });

  it('lets only the batch role receive from the queue: no SQS grant on the api function\'s role', () => {
    const queue = JSON.stringify({ 'Fn::GetAtt': ['BatchQueue', 'Arn'] });
    const sqsGrants = grantsByRole(template).filter((grant) => grant.includes(' sqs:'));
    const mapping = resource('BatchSqsEventSourceMappingSQSBatchQueue');

    expect(sqsGrants.sort()).toEqual(
      ['ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes', 'ReceiveMessage'].map((action) => `BatchFunctionRole: Allow sqs:${action} ${queue}`),
    );
    expect(grantsOf(resource('IamRoleLambdaExecution') as unknown as IamRoleProperties).filter((grant) => grant.includes('sqs:'))).toEqual([]);
    expect(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([id]) => id)).toEqual(['BatchSqsEventSourceMappingSQSBatchQueue']);
    expect(mapping).toMatchObject({ EventSourceArn: JSON.parse(queue), FunctionName: { 'Fn::GetAtt': ['BatchSqsLambdaFunction', 'Arn'] }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect((template.Resources.BatchSqsEventSourceMappingSQSBatchQueue as { DependsOn?: unknown }).DependsOn).toEqual(['BatchFunctionRole']);
  });

  it('keeps the batch functions, on their own role, out of the VPC the api function is in', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');

    expect(functions.map(([id]) => id).sort()).toEqual(['ApiLambdaFunction', ...BATCH_FUNCTION_IDS]);
    for (const [id, fn] of functions) {
      const batch = id !== 'ApiLambdaFunction';
      expect({ id, inVpc: fn.VpcConfig !== undefined, role: fn.Role }).toEqual({ id, inVpc: !batch, role: { 'Fn::GetAtt': [batch ? 'BatchFunctionRole' : 'IamRoleLambdaExecution', 'Arn'] } });
    }
  });

  it('bundles the AWS SDK into the batch zips, under the size ceilings, and leaves the api bundle importing the runtime\'s', () => {
    const artifacts = readFunctionArtifacts(outDir, template);
    const bundleOf = (fn: FunctionArtifacts) => {
      const name = readZipEntries(join(outDir, fn.code.zip)).map((e) => e.name).find((n) => n.endsWith('.mjs'))!;
      return readZipFile(join(outDir, fn.code.zip), name).toString('utf8');
    };
    const sdkImports = (source: string) => [...new Set(source.match(/(?:from\s*|import\(\s*)["']@aws-sdk\/[\w-]+["']/g) ?? [])];

    expect(artifacts.map((fn) => fn.logicalId).sort()).toEqual(['ApiLambdaFunction', ...BATCH_FUNCTION_IDS]);
    for (const fn of artifacts.filter((a) => a.logicalId !== 'ApiLambdaFunction')) {
      expect({ id: fn.logicalId, sdkImports: sdkImports(bundleOf(fn)) }).toEqual({ id: fn.logicalId, sdkImports: [] });
      expect(fn.code.zippedBytes).toBeLessThan(MAX_FUNCTION_ZIP_BYTES);
      expect(fn.code.unzippedBytes).toBeLessThan(MAX_BATCH_FUNCTION_UNZIPPED_BYTES);
    }
    expect(sdkImports(bundleOf(artifacts.find((a) => a.logicalId === 'ApiLambdaFunction')!))).toEqual(['import("@aws-sdk/client-s3"']);
  });

  it("hands the functions the load balancer's DNS name and the server port as HOTPATH_REMOTE_URL", () => {
    const [[, api]] = resourcesOfType(template, 'AWS::Lambda::Function') as [[string, Record<string, unknown>]];
    const url = { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': ['GpuTaskLoadBalancer', 'DNSName'] }, `:${GPU_TASK_PORT}`]] };

    expect((api.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({ HOTPATH_REMOTE_URL: url, HOTPATH_MODELS_DIR: '/opt/models' });
    expect((template as unknown as { Outputs: Record<string, { Value: unknown }> }).Outputs.GpuTaskUrl!.Value).toEqual(url);
  });
});

describe('serverless package (offline) with --param="gpuTask=true" and a parameter missing', () => {
  it.each([
    ['vpcId', GPU_TASK_PARAMS.filter((p) => !p.startsWith('--param=vpcId')), 'gpuTask=true needs the VPC: --param="vpcId=vpc-..."'],
    ['two subnets', GPU_TASK_PARAMS.map((p) => (p.startsWith('--param=subnetIds') ? `--param=subnetIds=${GPU_TASK_SUBNETS[0]}` : p)), 'gpuTask=true needs two or more distinct private subnets'],
    ['gpuTaskImageTag', GPU_TASK_PARAMS.filter((p) => !p.startsWith('--param=gpuTaskImageTag')), 'gpuTask=true needs the tag of the image pushed to ECR'],
  ])('fails before making any zip without %s, naming the parameter', async (_missing, params, message) => {
    const outDir = mkdtempSync(join(tmpdir(), 'hotpath-package-gpu-params-'));
    try {
      await expect(packageStack(outDir, params)).rejects.toThrow(message);
      expect(readdirSync(outDir).filter((f) => f.endsWith('.zip'))).toEqual([]);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }, PACKAGE_TIMEOUT_MS);
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
