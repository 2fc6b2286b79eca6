/**
 * `npm run start:gpu-task`'s process (gpu-task/start-gpu-task.ts) on this CPU-only machine: it
 * comes up ready, serving on the CPU provider after refusing the GPU ones, and on SIGTERM (what
 * ECS sends) finishes the request in flight and exits 0.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from '../../support/offline-server';

const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] });

describe('npm run start:gpu-task (gpu-task/start-gpu-task.ts)', () => {
  it('serves on cpu after refusing cuda and webgpu, drains the request in flight on SIGTERM and exits 0', async () => {
    // Prepare
    const port = await freePort();
    const child = spawn(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), 'gpu-task/start-gpu-task.ts', '--port', String(port)], {
      env: { ...process.env, HOTPATH_MODELS: 'iris-classifier', HOTPATH_WASM_THREADS: '1', HOTPATH_PROVIDERS: 'cuda,webgpu,cpu', POWERTOOLS_LOG_LEVEL: 'INFO' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = once(child, 'exit');
    try {
      for (let i = 0; !output.includes('hotpath GPU task ready at'); i++) {
        if (i > 600 || child.exitCode !== null) throw new Error(`not ready after 60 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
      const server = await (await fetch(`http://127.0.0.1:${port}/v2`)).json() as { parameters: { providers: Record<string, string> } };
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      let answer = '';
      socket.on('data', (c: Buffer) => (answer += c.toString()));
      socket.write(`POST /v2/models/iris-classifier/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
      await new Promise((r) => setTimeout(r, 200));

      // Act
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      socket.end(body.slice(10));
      await once(socket, 'close');
      const [code] = await exited;

      // Assess
      expect(ready.status).toBe(200);
      expect(server.parameters.providers).toEqual({ 'iris-classifier@1': 'cpu' });
      expect(output).toContain("execution provider 'cuda' REFUSED");
      expect(output).toContain("execution provider 'webgpu' REFUSED");
      expect(output).toContain('hotpath GPU task ready at');
      expect(output).toContain('iris-classifier (cpu)');
      expect(answer).toMatch(/^HTTP\/1.1 200/);
      expect(answer).toMatch(/x-hotpath-provider: cpu/i);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
