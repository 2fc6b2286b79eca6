import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { batchOutputKeys } from './batch-output-keys';
import type { ObjectStorage } from './object-storage';
import type { NumberedShard, ShardExecutionInput } from './shard-job';
import { shardExecutionName } from './step-functions-start';

export interface LocalShardPlanOptions {
  readonly lambda: LambdaClient;
  /** Where the shard list is (the input bucket's storage). */
  readonly storage: ObjectStorage;
  readonly workerFunction: string;
  readonly assembleFunction: string;
  /** Shards invoked at once (the state machine's MaxConcurrency). */
  readonly concurrency?: number;
}

/**
 * The shard state machine's plan run without Step Functions, for serverless-offline: Step
 * Functions itself is not emulated here. It does what the definition in serverless.yml does,
 * in the same order with the same payloads: invokes the shard worker once per shard (the
 * Distributed Map's children; `concurrency` at a time, a failed shard fails the run, no retries),
 * then the assembly function (`action: assemble`), or on a failure the same function with
 * `action: fail` and the error as Step Functions would pass it (`{Error, Cause}`). A second
 * start of the same job is refused as Step Functions refuses a second execution name: by a
 * conditional write of a marker named after the execution.
 *
 * @example
 * const start = localShardPlanStarter({ lambda, storage, workerFunction: 'hotpath-dev-batchShardWorker', assembleFunction: 'hotpath-dev-batchAssemble' });
 * await start({ bucket, shardsKey, job });
 */
export function localShardPlanStarter(options: LocalShardPlanOptions) {
  return async function runLocalShardPlan(input: ShardExecutionInput): Promise<{ started: boolean; execution: string }> {
    const execution = shardExecutionName(input.job);
    const marker = `${batchOutputKeys(input.job.outputPrefix, input.job).folder}executions/${execution}`;
    if (!(await options.storage.putIfAbsent(marker, JSON.stringify({ startedAt: new Date().toISOString() }), { contentType: 'application/json' }))) {
      return { started: false, execution };
    }
    const shards = await readJson<NumberedShard[]>(options.storage, input.shardsKey);
    let next = 0;
    let failure: { Error: string; Cause: string } | undefined;
    const worker = async (): Promise<void> => {
      while (next < shards.length && failure === undefined) {
        const shard = shards[next++]!;
        const answer = await invoke(options.lambda, options.workerFunction, { job: input.job, shard });
        failure ??= answer.error;
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, shards.length) }, worker));
    const final = failure === undefined
      ? await invoke(options.lambda, options.assembleFunction, { action: 'assemble', job: input.job, shardsKey: input.shardsKey })
      : undefined;
    const error = failure ?? final?.error;
    if (error !== undefined) await invoke(options.lambda, options.assembleFunction, { action: 'fail', job: input.job, shardsKey: input.shardsKey, error });
    return { started: true, execution };
  };
}

/** A synchronous invoke; a function error comes back as Step Functions shows it to a Catch: `{Error, Cause}`. */
async function invoke(lambda: LambdaClient, functionName: string, payload: unknown): Promise<{ result?: unknown; error?: { Error: string; Cause: string } }> {
  const answer = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
  const text = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : '';
  if (answer.FunctionError) {
    const parsed = safeJson(text) as { errorType?: string } | undefined;
    return { error: { Error: parsed?.errorType ?? answer.FunctionError, Cause: text } };
  }
  return { result: safeJson(text) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readJson<T>(storage: ObjectStorage, key: string): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.openRead(key)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}
