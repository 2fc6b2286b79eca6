/**
 * `npm start`'s process (scripts/start-server.ts) on SIGTERM: it stops accepting, finishes the
 * request in flight, and exits 0.
 */
import { connect } from 'node:net';
import { freePort } from '../../support/offline-server';
import { holdInferRequest, spawnServerScript } from '../../support/server-script-process';

const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] });

describe('npm start (scripts/start-server.ts)', () => {
  it('finishes the request in flight on SIGTERM, refuses new connections, and exits 0', async () => {
    // Prepare
    const port = await freePort();
    const { child, output, exited } = await spawnServerScript('scripts/start-server.ts', ['--port', String(port)],
      { HOTPATH_MODELS: 'iris-classifier', HOTPATH_WASM_THREADS: '1', POWERTOOLS_LOG_LEVEL: 'INFO' }, 'hotpath ready at');
    try {
      const held = await holdInferRequest(port, 'iris-classifier', body);
      await new Promise((r) => setTimeout(r, 200));

      // Act
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const refused = await new Promise<boolean>((done) => {
        const probe = connect(port, '127.0.0.1');
        probe.on('connect', () => { probe.destroy(); done(false); });
        probe.on('error', () => done(true));
      });
      held.finish();
      const answer = await held.answer;
      const [code] = await exited;

      // Assess
      expect(refused).toBe(true);
      expect(answer).toMatch(/^HTTP\/1.1 200/);
      expect(answer).toMatch(/"label","datatype":"INT64","shape":\[1\],"data":\[0\]/);
      expect(code).toBe(0);
      expect(output()).toMatch(/"message": ?"stopping"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
