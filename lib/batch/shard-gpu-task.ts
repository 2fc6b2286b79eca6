import { RunTaskCommand, type ECSClient, type RunTaskCommandInput } from '@aws-sdk/client-ecs';
import type { BatchCloudConfig } from '../config/serving-config';
import type { ShardJob } from './shard-job';
import { shardExecutionName } from './step-functions-start';

type GpuTaskSettings = NonNullable<BatchCloudConfig['gpuTask']>;

/**
 * The RunTask request that hands one object to the GPU task's batch mode
 * (gpu-task/batch-job.ts): the GPU task definition with its container's command replaced by the
 * batch job, the object and the model in the environment, in the given subnets with a security
 * group that only reaches out (HTTPS to S3, ECR, logs), the bucket-scoped task role.
 * `startedBy` carries the job's execution name (ECS keeps it 36 characters; the full name is in
 * HOTPATH_BATCH_JOB_NAME), so an operator can find the task for an object.
 */
export function gpuBatchRunTaskInput(settings: GpuTaskSettings, job: ShardJob): RunTaskCommandInput {
  const name = shardExecutionName(job);
  const environment = [
    { name: 'HOTPATH_BATCH_JOB', value: JSON.stringify(job) },
    { name: 'HOTPATH_BATCH_JOB_NAME', value: name },
    // The batch job runs the pipeline on onnxruntime-node with the provider the self-test proves.
    { name: 'HOTPATH_BACKEND', value: 'native' },
  ];
  return {
    cluster: settings.cluster,
    taskDefinition: settings.taskDefinition,
    count: 1,
    // RunTask's idempotency token: a redelivered event's second call starts no second task.
    clientToken: name.slice(-64),
    startedBy: name.slice(-36),
    // A GPU task runs on the cluster's EC2 capacity provider (there are no GPUs on Fargate).
    networkConfiguration: {
      awsvpcConfiguration: { subnets: [...settings.subnets], securityGroups: [...settings.securityGroups], assignPublicIp: 'DISABLED' },
    },
    overrides: {
      ...(settings.taskRoleArn !== undefined ? { taskRoleArn: settings.taskRoleArn } : {}),
      containerOverrides: [
        { name: settings.container, command: ['node', 'node_modules/tsx/dist/cli.mjs', 'gpu-task/batch-job.ts'], environment },
      ],
    },
    propagateTags: 'TASK_DEFINITION',
    tags: [{ key: 'hotpath:batch-job', value: name.slice(0, 256) }],
  };
}

/**
 * Starts the GPU task's batch mode for a job. ECS answers `failures` (no capacity, a bad
 * subnet) instead of throwing; those throw here with ECS's reasons, so the S3 event is
 * retried and the decision's log says why.
 */
export function gpuTaskBatchStarter(client: ECSClient, settings: GpuTaskSettings) {
  return async function runGpuBatchTask(job: ShardJob): Promise<{ started: boolean; task: string }> {
    const answer = await client.send(new RunTaskCommand(gpuBatchRunTaskInput(settings, job)));
    const failures = answer.failures ?? [];
    const task = answer.tasks?.[0]?.taskArn;
    if (task === undefined || failures.length > 0) {
      throw new Error(`ECS RunTask for '${job.key}' on ${settings.cluster} started no task: ${failures.map((f) => `${f.arn ?? ''} ${f.reason ?? ''} ${f.detail ?? ''}`.trim()).join('; ') || 'no reason given'}`);
    }
    return { started: true, task };
  };
}
