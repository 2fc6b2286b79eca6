import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const repoRoot = resolve(__dirname, '../..');
const TSX_LOADER = pathToFileURL(resolve(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const OUTPUT_TAIL_CHARS = 8000;

/** What a bench child sends over IPC once it listens (servers) or once it is ready for commands. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly url?: string;
}

/** A TypeScript child in its own process group, with an IPC channel. */
export interface BenchChild {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** `http://127.0.0.1:<port>` for servers. */
  readonly url: string | undefined;
  /** The last few kB the child printed (its logs are kept, not shown). */
  output(): string;
  stop(): Promise<void>;
}

const live = new Set<{ stop(): Promise<void>; kill(): void }>();
let exitHooked = false;

/**
 * Kills every child still running: synchronously on exit, and after an orderly stop on
 * Ctrl-C / SIGTERM, so no server outlives the bench (they run in their own process groups,
 * which a terminal's Ctrl-C does not reach).
 */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench:server ${signal}: stopping ${live.size} child process(es)\n`);
      const stops = [...live].map((child) => child.stop());
      const hardStop = setTimeout(() => process.exit(130), 8000);
      void Promise.allSettled(stops).then(() => {
        clearTimeout(hardStop);
        process.exit(130);
      });
    });
  }
}

/** Registers something to stop when the bench ends early (e.g. a serverless-offline server). */
export function stopOnExit(stop: () => Promise<void>, kill: () => void = () => undefined): () => void {
  hookExit();
  const entry = { stop, kill };
  live.add(entry);
  return () => live.delete(entry);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/**
 * Runs `node --import tsx <script> <args>` from the repository root, one process (no tsx
 * launcher in between, so /proc/<pid> is the measured process itself), and resolves on its
 * `ready` IPC message.
 */
export async function startBenchChild(name: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv, readyTimeoutMs = 180_000): Promise<BenchChild> {
  hookExit();
  const child = spawn(process.execPath, ['--import', TSX_LOADER, resolve(repoRoot, script), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  // Always drained: a child blocked on a full stdout pipe would measure as a slow server.
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').catch(() => undefined);
  const kill = () => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  };
  const stop = async () => {
    unregister();
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(kill, 5000);
    await exited;
    clearTimeout(timer);
    kill();
  };
  const unregister = stopOnExit(stop, kill);
  const ready = await new Promise<ReadyMessage>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${readyTimeoutMs / 1000} s`)), readyTimeoutMs);
    child.on('message', (message: ReadyMessage) => {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      resolveReady(message);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready`));
    });
    child.once('error', reject);
  }).catch(async (error: Error) => {
    await stop();
    throw new Error(`${error.message}\n--- ${name} output ---\n${output}`);
  });
  return { name, pid: child.pid!, process: child, url: ready.url, output: () => output, stop };
}

/** Sends a command to a child and waits for its answer (one outstanding command at a time). */
export function askChild<T>(child: BenchChild, command: unknown, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolveAnswer, reject) => {
    const timer = setTimeout(() => {
      child.process.off('message', onMessage);
      reject(new Error(`${child.name} did not answer within ${timeoutMs / 1000} s\n${child.output()}`));
    }, timeoutMs);
    const onMessage = (message: { type: string; error?: string }) => {
      if (message?.type !== 'answer' && message?.type !== 'failed') return;
      clearTimeout(timer);
      child.process.off('message', onMessage);
      if (message.type === 'failed') reject(new Error(`${child.name}: ${message.error}`));
      else resolveAnswer(message as T);
    };
    child.process.on('message', onMessage);
    child.process.send(command as object);
  });
}

/** In a child: tells the parent it is ready (and where it listens). */
export function reportReady(url?: string): void {
  process.send?.({ type: 'ready', url } satisfies ReadyMessage);
}

/** In a child: exits when the parent goes away (the IPC channel closes), so no orphan keeps a port or a core. */
export function exitWithParent(close: () => Promise<void> = async () => undefined): void {
  const quit = () => {
    void close().finally(() => process.exit(0));
  };
  process.on('disconnect', quit);
  process.on('SIGTERM', quit);
}
