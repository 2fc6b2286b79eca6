/**
 * `npm start`'s process (scripts/start-server.ts) on SIGTERM: it stops accepting, finishes the
 * request in flight, and exits 0.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from '../../support/offline-server';

const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] });

describe('npm start (scripts/start-server.ts)', () => {
  it('finishes the request in flight on SIGTERM, refuses new connections, and exits 0', async () => {
    // Prepare
    const port = await freePort();
    const child = spawn(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/start-server.ts', '--port', String(port)], {
      env: { ...process.env, HOTPATH_MODELS: 'iris-classifier', HOTPATH_WASM_THREADS: '1', POWERTOOLS_LOG_LEVEL: 'INFO' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = once(child, 'exit');
    try {
      for (let i = 0; !output.includes('hotpath ready at'); i++) {
        if (i > 600) throw new Error(`not ready after 60 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      let answer = '';
      socket.on('data', (c: Buffer) => (answer += c.toString()));
      socket.write(`POST /v2/models/iris-classifier/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
      await new Promise((r) => setTimeout(r, 200));

      // Act
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const refused = await new Promise<boolean>((done) => {
        const probe = connect(port, '127.0.0.1');
        probe.on('connect', () => { probe.destroy(); done(false); });
        probe.on('error', () => done(true));
      });
      socket.end(body.slice(10));
      await once(socket, 'close');
      const [code] = await exited;

      // Assess
      expect(refused).toBe(true);
      expect(answer).toMatch(/^HTTP\/1.1 200/);
      expect(answer).toMatch(/"label","datatype":"INT64","shape":\[1\],"data":\[0\]/);
      expect(code).toBe(0);
      expect(output).toMatch(/"message": ?"stopping"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
