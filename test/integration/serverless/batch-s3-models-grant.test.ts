import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const repoRoot = resolve(__dirname, '../../..');
const execFileAsync = promisify(execFile);
const PRINT_TIMEOUT_MS = 60_000;

interface Statement {
  readonly Effect: string;
  readonly Action: readonly string[];
  readonly Resource: string;
}
interface PrintedStack {
  readonly resources: { readonly Resources: Record<string, { readonly Type: string; readonly Properties: { readonly Roles?: unknown; readonly PolicyDocument?: { readonly Statement: readonly Statement[] } } }> };
}

/** `serverless print` resolves every variable (no packaging, ~3 s of CPU): enough to read the resources a param set adds. */
async function printStack(params: readonly string[]): Promise<PrintedStack> {
  const { stdout } = await execFileAsync('npx', ['serverless', 'print', '--format', 'json', ...params], { cwd: repoRoot, timeout: PRINT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as PrintedStack;
}

const S3_MODELS = ['--param=s3Models=true', '--param=s3ModelsBucket=hotpath-models-test', '--param=s3ModelsKeyPrefix=models/v1/'];

describe('serverless.yml: the batch functions\' role and models served from S3', () => {
  it('grants BatchFunctionRole s3:GetObject on exactly the S3 models\' keys when batch and s3Models are both on', async () => {
    // Act
    const stack = await printStack(['--param=batch=true', '--param=batchBucket=hotpath-batch-test', ...S3_MODELS]);

    // Assess: one policy on the batch role, the models' key prefix and nothing wider.
    const policy = stack.resources.Resources.BatchS3ModelsPolicy;
    expect(policy?.Type).toBe('AWS::IAM::Policy');
    expect(policy?.Properties.Roles).toEqual([{ Ref: 'BatchFunctionRole' }]);
    expect(policy?.Properties.PolicyDocument?.Statement).toEqual([{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::hotpath-models-test/models/v1/*' }]);
  }, PRINT_TIMEOUT_MS);

  it('adds no such policy when the batch stack has no S3 models', async () => {
    // Act
    const stack = await printStack(['--param=batch=true', '--param=batchBucket=hotpath-batch-test']);

    // Assess
    expect(stack.resources.Resources.BatchFunctionRole).toBeDefined();
    expect(stack.resources.Resources.BatchS3ModelsPolicy).toBeUndefined();
  }, PRINT_TIMEOUT_MS);
});
