import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Sends process.stdout to /dev/null with a synchronous write per chunk while `work` runs.
 * The handler's EMF metrics and logs go to stdout on every invocation; on Lambda that is a
 * synchronous write to the runtime's pipe, so the cost stays in the measurement, but the
 * bench's terminal is not flooded with thousands of EMF lines.
 */
export async function withStdoutDiscarded<T>(work: () => Promise<T>): Promise<T> {
  const fd = openSync('/dev/null', 'w');
  const original = process.stdout.write;
  process.stdout.write = function discard(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string') writeSync(fd, chunk);
    else writeSync(fd, chunk);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  } as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stdout.write = original;
    closeSync(fd);
  }
}
