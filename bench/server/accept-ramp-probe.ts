/**
 * Why connections opened all at once reach a busy node server one by one: a net server whose
 * every event-loop iteration spends `--burn-ms` of CPU (as a server running one inference per
 * served connection does), and a client process that opens `--connections` connections at
 * once while the server's loop is held (so all are pending in the accept queue). Prints the
 * loop iteration and the ms at which each connection was accepted.
 * Measured here (Node 20.20, libuv 1.46): one connection per iteration, so with 14 ms of work
 * per served connection the k-th new connection waits about 14 ms × k(k-1)/2.
 *
 * @example
 * npx tsx bench/server/accept-ramp-probe.ts --connections 20 --burn-ms 5
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '20' }, 'burn-ms': { type: 'string', default: '5' } }, strict: true });
const connections = Number(values.connections);
const burnMs = Number(values['burn-ms']);

let iteration = 0;
const accepted: string[] = [];
let firstAcceptAt: number | undefined;
const server = createServer((socket) => {
  firstAcceptAt ??= performance.now();
  accepted.push(`#${iteration} +${(performance.now() - firstAcceptAt).toFixed(0)} ms`);
  socket.resume();
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const client = spawn(process.execPath, ['-e', `const net=require('net');for(let i=0;i<${connections};i++)net.connect(${port},'127.0.0.1').on('error',()=>{});setTimeout(()=>{},60000)`], { stdio: 'ignore' });
  const busyIteration = () => {
    iteration++;
    const started = performance.now();
    while (performance.now() - started < burnMs) {
      // the CPU-bound work of one loop iteration
    }
    if (accepted.length < connections) {
      setImmediate(busyIteration);
      return;
    }
    const first = Number(accepted[0]!.slice(1, accepted[0]!.indexOf(' ')));
    const last = Number(accepted[accepted.length - 1]!.slice(1, accepted[accepted.length - 1]!.indexOf(' ')));
    console.log(`node ${process.versions.node} (libuv ${process.versions.uv}), ${burnMs} ms of CPU per loop iteration: ${connections} pending connections accepted over ${last - first + 1} iterations`);
    console.log(accepted.join(', '));
    client.kill();
    server.close();
  };
  // Hold the loop while the client starts and connects, so every connection is pending in the
  // kernel's accept queue before the server looks at it.
  const holdUntil = performance.now() + 1000;
  while (performance.now() < holdUntil) {
    // waiting for the client's connects
  }
  setImmediate(busyIteration);
});
