/**
 * `npm run start:gpu-task`'s process (gpu-task/start-gpu-task.ts) on this CPU-only machine: it
 * comes up ready, serving on the CPU provider after refusing the GPU ones, and on SIGTERM (what
 * ECS sends) finishes the request in flight and exits 0.
 */
import { freePort } from '../../support/offline-server';
import { holdInferRequest, spawnServerScript } from '../../support/server-script-process';

const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] });

describe('npm run start:gpu-task (gpu-task/start-gpu-task.ts)', () => {
  it('serves on cpu after refusing cuda and webgpu, drains the request in flight on SIGTERM and exits 0', async () => {
    // Prepare
    const port = await freePort();
    const { child, output, exited } = await spawnServerScript('gpu-task/start-gpu-task.ts', ['--port', String(port)],
      { HOTPATH_MODELS: 'iris-classifier', HOTPATH_WASM_THREADS: '1', HOTPATH_PROVIDERS: 'cuda,webgpu,cpu', POWERTOOLS_LOG_LEVEL: 'INFO' }, 'hotpath GPU task ready at');
    try {
      const ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
      const server = await (await fetch(`http://127.0.0.1:${port}/v2`)).json() as { parameters: { providers: Record<string, string> } };
      const held = await holdInferRequest(port, 'iris-classifier', body);
      await new Promise((r) => setTimeout(r, 200));

      // Act
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      held.finish();
      const answer = await held.answer;
      const [code] = await exited;

      // Assess
      expect(ready.status).toBe(200);
      expect(server.parameters.providers).toEqual({ 'iris-classifier@1': 'cpu' });
      expect(output()).toContain("execution provider 'cuda' REFUSED");
      expect(output()).toContain("execution provider 'webgpu' REFUSED");
      expect(output()).toContain('hotpath GPU task ready at');
      expect(output()).toContain('iris-classifier (cpu)');
      expect(answer).toMatch(/^HTTP\/1.1 200/);
      expect(answer).toMatch(/x-hotpath-provider: cpu/i);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
