import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HostTensor } from '../protocol/tensor';
import { encodeScoreLines, scoreLineEncoder } from './score-lines';

/**
 * The scores' encoding on a worker thread, so that on a machine with a second core the lines of
 * one batch are built while the pipeline's thread parses and infers the next (for a small model
 * the encoding is the slowest stage: printing every FP32 output in full double precision).
 * The worker runs `scoreLineEncoder`'s own source text (one encoder, the same bytes as in the
 * thread) and answers each batch's lines as UTF-8 bytes, transferred. Answers come back in the
 * order asked. Where the worker cannot start or run that source (a single core, a bundle whose
 * helpers it lacks), or dies, the lines are built in the calling thread instead: same bytes.
 */
export interface ScoreLineEncoding {
  /** The batch's lines, as `encodeScoreLines` writes them. The tensors are copied before the call returns. */
  encode(rows: readonly number[], ids: readonly (string | undefined)[] | undefined, outputs: readonly HostTensor[]): Promise<string | Uint8Array>;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
// A bundler's keepNames helper called inside the encoder's text (esbuild: __name, renamed when
// minified) names functions and nothing else: where one is missing, an identity stands in for it.
let encode;
for (let tries = 0; encode === undefined; tries++) {
  try {
    encode = (${scoreLineEncoder.toString()})();
    parentPort.postMessage({ ready: true });
  } catch (error) {
    const missing = error instanceof ReferenceError && /^([\\w$]+) is not defined$/.exec(error.message);
    if (!missing || tries === 4) {
      parentPort.postMessage({ ready: false, reason: String(error && error.message) });
      break;
    }
    globalThis[missing[1]] = (target) => target;
  }
}
const encoder = new TextEncoder();
parentPort.on('message', ({ id, rows, ids, outputs }) => {
  try {
    const bytes = encoder.encode(encode(rows, ids, outputs));
    parentPort.postMessage({ id, bytes }, [bytes.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
`;

interface Pending {
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

class WorkerScoreLineEncoding implements ScoreLineEncoding {
  #worker: Worker | undefined;
  #broken = false;
  #ready: Promise<boolean>;
  #next = 0;
  readonly #pending = new Map<number, Pending>();

  constructor() {
    // Its heap is held small (the lines of 8 batches at a time): RSS stays flat with the file's size. Past it, the thread encodes.
    const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } });
    worker.unref();
    this.#worker = worker;
    this.#ready = new Promise<boolean>((resolve) => {
      worker.once('message', (message: { ready: boolean }) => {
        if (!message.ready) this.#stop(new Error(`the encoding worker could not load the encoder: ${(message as { reason?: string }).reason}`));
        resolve(message.ready);
        worker.on('message', (answer: { id: number; bytes?: Uint8Array; error?: string }) => {
          const pending = this.#pending.get(answer.id);
          this.#pending.delete(answer.id);
          if (this.#pending.size === 0) worker.unref();
          if (!pending) return;
          if (answer.bytes) pending.resolve(answer.bytes);
          else pending.reject(new Error(`encoding the scores failed: ${answer.error}`));
        });
      });
      worker.once('error', (error) => {
        this.#stop(error);
        resolve(false);
      });
      worker.once('exit', (code) => {
        this.#stop(new Error(`the encoding worker exited (code ${code})`));
        resolve(false);
      });
    });
  }

  async encode(rows: readonly number[], ids: readonly (string | undefined)[] | undefined, outputs: readonly HostTensor[]): Promise<string | Uint8Array> {
    // Copied now: a tensor's data may be a view on memory the next inference reuses (a view posted would carry its whole buffer).
    const copies = outputs.map((tensor) => ({
      ...tensor,
      data: Array.isArray(tensor.data) ? tensor.data.map((item: Uint8Array) => item.slice()) : (tensor.data as Float32Array).slice(),
    })) as HostTensor[];
    const rowsCopy = [...rows];
    const idsCopy = ids === undefined ? undefined : [...ids];
    const worker = (await this.#ready) ? this.#worker : undefined;
    if (!worker) return encodeScoreLines(rowsCopy, idsCopy, copies);
    const id = this.#next++;
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        if (this.#pending.size === 1) worker.ref();
        worker.postMessage({ id, rows: rowsCopy, ids: idsCopy, outputs: copies });
      });
    } catch {
      // The worker died or failed on this batch: the thread's encoder gives the same bytes (or throws the real error).
      return encodeScoreLines(rowsCopy, idsCopy, copies);
    }
  }

  #stop(error: Error): void {
    this.#broken = true;
    const worker = this.#worker;
    this.#worker = undefined;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    if (worker) void worker.terminate().catch(() => undefined);
  }
}

/** In the calling thread: the machine has one core, or the worker is not wanted. */
export const inThreadScoreLineEncoding: ScoreLineEncoding = {
  encode: async (rows, ids, outputs) => encodeScoreLines(rows, ids, outputs),
};

let shared: ScoreLineEncoding | undefined;

/**
 * The process's encoding: one worker, started on first use and reused by every later run (it
 * does not keep the process alive); in the calling thread where there is only one core.
 */
export function sharedScoreLineEncoding(): ScoreLineEncoding {
  shared ??= os.availableParallelism() > 1 ? new WorkerScoreLineEncoding() : inThreadScoreLineEncoding;
  return shared;
}

/** A fresh worker-backed encoding (the tests' and the benchmark's, to compare with the thread's). */
export function workerScoreLineEncoding(): ScoreLineEncoding {
  return new WorkerScoreLineEncoding();
}
