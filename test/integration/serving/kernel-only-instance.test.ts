import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const BUNDLE = resolve('dist/functions/http/api-handler.mjs');
const CHILD = resolve('test/integration/serving/kernel-only-child.mjs');
const EVENT = resolve('events/http/infer-json.json');

interface ChildReport {
  readonly status: number;
  readonly route: string;
  readonly onnxruntimeWeb: boolean;
  readonly onnxruntimeNode: boolean;
}

/** One cold start of the built handler bundle in a fresh node process with these variables. */
function coldStart(env: Record<string, string>): ChildReport {
  const run = spawnSync(process.execPath, [CHILD, BUNDLE, EVENT], { env: { PATH: process.env.PATH, HOTPATH_WASM_THREADS: '1', ...env }, encoding: 'utf8', timeout: 60_000 });
  const line = run.stdout.split('\n').find((l) => l.startsWith('@@modules '));
  if (!line) throw new Error(`the child printed no report (exit ${run.status}): ${run.stderr.slice(0, 2000)}`);
  return JSON.parse(line.slice('@@modules '.length)) as ChildReport;
}

describe('an instance whose models all run on kernel plans', () => {
  beforeAll(() => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  });

  it('answers iris-classifier on the kernel backend without loading onnxruntime-web', () => {
    // Act
    const report = coldStart({ HOTPATH_MODELS: 'iris-classifier' });

    // Assess
    expect(report).toEqual({ status: 200, route: 'local-kernel', onnxruntimeWeb: false, onnxruntimeNode: false });
  });

  it('loads onnxruntime-web once a selected model needs it (HOTPATH_WASM_MODELS)', () => {
    // Act
    const report = coldStart({ HOTPATH_MODELS: 'iris-classifier', HOTPATH_WASM_MODELS: 'iris-classifier' });

    // Assess
    expect(report).toEqual({ status: 200, route: 'local-wasm', onnxruntimeWeb: true, onnxruntimeNode: false });
  });
});
