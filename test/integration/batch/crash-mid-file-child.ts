/**
 * Test child: scores `<root>/<key>` and is killed with SIGKILL (no cleanup, no manifest, as a
 * Lambda timeout or an out-of-memory kill) once `<rows>` rows have been scored.
 * Usage: tsx crash-mid-file-child.ts <root> <key> <rows>
 */
import { FilesystemObjectStorage } from '../../../lib/batch/filesystem-object-storage';
import { scoreObject } from '../../../lib/batch/score-object';
import { createBatchRuntime } from './batch-fixtures';

async function main(): Promise<void> {
  const [root, key, rows] = process.argv.slice(2) as [string, string, string];
  const runtime = await createBatchRuntime(['iris-classifier']);
  await scoreObject({ core: runtime, storage: new FilesystemObjectStorage(root) }, {
    key,
    model: 'iris-classifier',
    outputPrefix: 'out',
    onProgress: (progress) => {
      if (progress.rowsScored >= Number(rows)) process.kill(process.pid, 'SIGKILL');
    },
  });
  console.log('finished without crashing');
}

void main();
