import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stopOnExit } from '../server/bench-children';

const repoRoot = resolve(__dirname, '../..');
const TSX_LOADER = pathToFileURL(resolve(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const READY_LINE = /hotpath GPU task ready at (http:\/\/\S+)/;
const OUTPUT_TAIL_CHARS = 8000;

/** A running `gpu-task/start-gpu-task.ts` process (what `npm run start:gpu-task` and the container run). */
export interface GpuTaskProcess {
  readonly pid: number;
  readonly url: string;
  /** What `GET /v2` says: the execution provider each model serves on, and those refused. */
  readonly server: { readonly parameters?: { readonly providers?: Record<string, string>; readonly providers_refused?: unknown } };
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the GPU task's real process on a free port of 127.0.0.1 (`node --import tsx
 * gpu-task/start-gpu-task.ts --port 0`, its own process group, so the measured server is that
 * process and nothing in between) and resolves once it prints its ready line.
 */
export async function startGpuTaskProcess(env: Record<string, string>, readyTimeoutMs = 180_000): Promise<GpuTaskProcess> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, resolve(repoRoot, 'gpu-task/start-gpu-task.ts'), '--port', '0', '--host', '127.0.0.1'], {
    cwd: repoRoot,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Always drained: a task blocked on a full stdout pipe would measure as a slow server.
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = once(child, 'exit').catch(() => undefined);
  const kill = () => signalGroup(child.pid, 'SIGKILL');
  const stop = async () => {
    unregister();
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(kill, 5000);
    await exited;
    clearTimeout(timer);
  };
  const unregister = stopOnExit(stop, kill);
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the GPU task was not ready within ${readyTimeoutMs / 1000} s`)), readyTimeoutMs);
    const watch = (chunk: Buffer) => {
      const match = READY_LINE.exec(output) ?? READY_LINE.exec(chunk.toString('utf8'));
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', watch);
      resolveUrl(match[1]!);
    };
    child.stdout.on('data', watch);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the GPU task exited (${code ?? signal}) before it was ready`));
    });
  }).catch(async (error: Error) => {
    await stop();
    throw new Error(`${error.message}\n--- gpu task output ---\n${output}`);
  });
  const server = await (await fetch(`${url}/v2`)).json() as GpuTaskProcess['server'];
  return { pid: child.pid!, url, server, output: () => output, stop };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
