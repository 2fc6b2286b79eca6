/**
 * Turns handed out one per event-loop iteration, in arrival order. The server takes one before
 * each request's work, so one iteration runs at most one request and then goes back to the
 * loop, where Node accepts the next pending connection and reads sockets. Without it, an
 * iteration ran the requests of every connection it already served before accepting one more:
 * a burst of 32 connections to mlp-medium at batch 32 (16 ms per run) had its last first answer
 * after 7.5 s and p99 7.3× p50 (`npm run bench:server`, BENCHMARKS.md Server findings).
 */
export function createEventLoopTurns(): () => Promise<void> {
  const waiting: (() => void)[] = [];
  let scheduled = false;
  const giveNextTurn = (): void => {
    scheduled = false;
    waiting.shift()?.();
    // Scheduled from inside an immediate, so it runs in the next iteration, after the poll phase.
    if (waiting.length > 0) schedule();
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(giveNextTurn);
  };
  return function nextTurn(): Promise<void> {
    return new Promise<void>((resolve) => {
      waiting.push(resolve);
      schedule();
    });
  };
}
