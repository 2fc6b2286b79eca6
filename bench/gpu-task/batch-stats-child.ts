/**
 * The batching phase's look inside: the GPU task's server (startGpuTask, which
 * gpu-task/start-gpu-task.ts runs) in a child of the bench, with its `onBatch` hook counting
 * the batches the dynamic batcher formed. Models from HOTPATH_MODELS. Reports its URL over IPC;
 * `{ type: 'reset' }` clears the counts and `{ type: 'stats' }` answers them; exits when the
 * bench goes away.
 */
import { startGpuTask, type FormedBatch } from '../../gpu-task/gpu-task-server';
import { median, nearestRank } from '../server/load-stats';
import { exitWithParent, reportReady } from '../server/bench-children';

/** What the batcher did since the last reset. */
export interface BatchStats {
  readonly type: 'answer';
  readonly batches: number;
  readonly requests: number;
  readonly rowsPerBatchMedian: number;
  readonly rowsPerBatchMax: number;
  /** session.run of one batch (concatenation and split included). */
  readonly runMsP50: number;
  readonly runMsP99: number;
  /** How long each batch's oldest request had waited in the queue when the batch started. */
  readonly oldestWaitMsP50: number;
  readonly oldestWaitMsP99: number;
}

async function main(): Promise<void> {
  let batches: FormedBatch[] = [];
  const quiet = { info() {}, warn() {}, error: (message: string) => console.error(message) };
  const task = await startGpuTask({ host: '127.0.0.1', port: 0, logger: quiet, onBatch: (batch) => batches.push(batch) });
  exitWithParent(async () => void (await task.close(1000)));
  process.on('message', (command: { type: string }) => {
    if (command?.type === 'reset') {
      batches = [];
      process.send?.({ type: 'answer' });
    } else if (command?.type === 'stats') {
      process.send?.(statsOf(batches));
    }
  });
  reportReady(task.url);
}

function statsOf(batches: readonly FormedBatch[]): BatchStats | { type: 'failed'; error: string } {
  if (batches.length === 0) return { type: 'failed', error: 'no batch ran' };
  const sorted = (pick: (b: FormedBatch) => number) => batches.map(pick).sort((a, b) => a - b);
  const rows = sorted((b) => b.rows);
  const run = sorted((b) => b.runMs);
  const wait = sorted((b) => b.oldestWaitMs);
  return {
    type: 'answer',
    batches: batches.length,
    requests: batches.reduce((sum, b) => sum + b.requests, 0),
    rowsPerBatchMedian: median(rows),
    rowsPerBatchMax: rows[rows.length - 1]!,
    runMsP50: nearestRank(run, 0.5),
    runMsP99: nearestRank(run, 0.99),
    oldestWaitMsP50: nearestRank(wait, 0.5),
    oldestWaitMsP99: nearestRank(wait, 0.99),
  };
}

main().catch((error: unknown) => {
  console.error(`batch-stats-child: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
