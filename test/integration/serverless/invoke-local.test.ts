import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const repoRoot = resolve(__dirname, '../../..');
const INVOKE_TIMEOUT_MS = 45_000;
const execFileAsync = promisify(execFile);

/** The README's command, verbatim. */
const COMMAND = ['serverless', 'invoke', 'local', '-f', 'api', '-p', 'events/http/infer-json.json'];

interface InvokeResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * invoke local prints the handler's logs (Powertools JSON lines) and then the result, pretty
 * printed with 4-space indents: the result is the last block that starts with a line `{`.
 */
function lastPrintedObject(stdout: string): InvokeResult {
  const lines = stdout.split('\n');
  const start = lines.lastIndexOf('{');
  if (start < 0) throw new Error(`no result object in the output:\n${stdout}`);
  return JSON.parse(lines.slice(start).join('\n')) as InvokeResult;
}

describe('npx serverless invoke local -f api -p events/http/infer-json.json', () => {
  it('answers 200 with the iris classifier outputs, with no AWS credentials and no layers mounted', async () => {
    // Prepare: a shell as on a fresh clone: no AWS credentials or profile, no HOTPATH_* (serverless.yml's
    // defaults apply) and none of the test setup's POWERTOOLS_* settings.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_(?!CA_BUNDLE)|HOTPATH_|POWERTOOLS_)/.test(name)));

    // Act
    const { stdout } = await execFileAsync('npx', COMMAND, { cwd: repoRoot, env, timeout: INVOKE_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });

    // Assess
    const result = lastPrintedObject(stdout);
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('application/json');
    const body = JSON.parse(result.body) as { model_name: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
    expect(body.model_name).toBe('iris-classifier');
    const label = body.outputs.find((o) => o.name === 'label')!;
    const probabilities = body.outputs.find((o) => o.name === 'probabilities')!;
    // The event's rows are a setosa (5.1, 3.5, 1.4, 0.2) and a virginica (6.7, 3.0, 5.2, 2.3).
    expect(label).toEqual({ name: 'label', datatype: 'INT64', shape: [2], data: [0, 2] });
    expect(probabilities.shape).toEqual([2, 3]);
    expect(probabilities.data[0]).toBeGreaterThan(0.9);
    expect(probabilities.data[5]).toBeGreaterThan(0.9);
  }, INVOKE_TIMEOUT_MS + 5_000);
});
