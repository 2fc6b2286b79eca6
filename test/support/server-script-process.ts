import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { resolve } from 'node:path';

export interface ServerScriptProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with [exit code, signal] once the process has exited. */
  readonly exited: Promise<unknown[]>;
}

/**
 * Runs a server script under tsx (`scripts/start-server.ts`, `gpu-task/start-gpu-task.ts`) and
 * resolves once it has printed `readyText`; rejects with its output if it exits or takes 60 s.
 * The caller kills it (`child.kill`) in a finally.
 */
export async function spawnServerScript(script: string, args: readonly string[], env: Record<string, string>, readyText: string): Promise<ServerScriptProcess> {
  const child = spawn(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), script, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit');
  for (let i = 0; !output.includes(readyText); i++) {
    if (i > 600 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`${script} not ready after 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output, exited };
}

/**
 * An infer request held in flight: the head and the first bytes of `body` are sent, the rest
 * when `finish()` is called; `answer` resolves with everything the server wrote once it closes.
 */
export async function holdInferRequest(port: number, model: string, body: string, sentFirst = 10): Promise<{ answer: Promise<string>; finish(): void }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  const answer = once(socket, 'close').then(() => text);
  socket.write(`POST /v2/models/${model}/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, sentFirst)}`);
  return { answer, finish: () => socket.end(body.slice(sentFirst)) };
}
