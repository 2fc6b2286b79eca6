import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createHash } from 'node:crypto';
import type { ShardExecutionInput, ShardJob } from './shard-job';

/**
 * The execution name for one version of one object: Step Functions refuses a second standard
 * execution of the same name (ExecutionAlreadyExists, for 90 days), so a redelivered S3 event
 * starts nothing twice. Names are at most 80 characters of `[A-Za-z0-9_-]`.
 */
export function shardExecutionName(job: Pick<ShardJob, 'bucket' | 'key' | 'etag' | 'versionId' | 'outputPrefix'>): string {
  const digest = createHash('sha256').update(`${job.bucket}\n${job.key}\n${job.versionId ?? ''}\n${job.etag}\n${job.outputPrefix}`).digest('hex');
  const name = job.key.slice(job.key.lastIndexOf('/') + 1).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return `${name}-${digest.slice(0, 32)}`;
}

/**
 * Starts the shard state machine (serverless.yml's batchShards) for a planned job.
 *
 * @example
 * const start = stepFunctionsShardStarter(new SFNClient({}), process.env.HOTPATH_BATCH_STATE_MACHINE_ARN);
 * await start({ bucket, shardsKey, job }); // { started: true, execution: 'arn:aws:states:...' }
 */
export function stepFunctionsShardStarter(client: SFNClient, stateMachineArn: string) {
  return async function startShardExecution(input: ShardExecutionInput): Promise<{ started: boolean; execution: string }> {
    const name = shardExecutionName(input.job);
    try {
      const answer = await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return { started: true, execution: answer.executionArn ?? name };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return { started: false, execution: name };
      throw error;
    }
  };
}
