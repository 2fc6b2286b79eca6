'use strict';

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
/** Docker's tag grammar. */
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * `--param="gpuTask=true"` adds the GPU task's resources (serverless.yml, custom.gpuTaskVariants)
 * and puts the functions in a VPC. Without a VPC, two subnets and an image tag, that template
 * would only fail later, inside CloudFormation, half deployed; this plugin fails `serverless
 * package` / `deploy` before any zip is made, naming the parameter to give.
 */
class GpuTaskParamsCheck {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.check(),
    };
  }

  check() {
    const settings = (this.serverless.service.custom || {}).gpuTask || {};
    const enabled = String(settings.enabled);
    if (enabled === 'false') return;
    if (enabled !== 'true') this.refuse(`--param="gpuTask=${enabled}" must be true or false`);
    const { vpcId, subnetIds, gpuTaskImageTag } = settings.required || {};
    if (!VPC_ID.test(String(vpcId ?? ''))) {
      this.refuse(`gpuTask=true needs the VPC: --param="vpcId=vpc-..." (got '${vpcId ?? ''}')`);
    }
    // Split by CloudFormation (Fn::Split) as given: a space would stay in the ID.
    const subnets = String(subnetIds ?? '').split(',');
    if (subnets.some((id) => !SUBNET_ID.test(id)) || subnets.length < 2 || new Set(subnets).size !== subnets.length) {
      this.refuse(
        `gpuTask=true needs two or more distinct private subnets of that VPC, comma-separated without spaces: ` +
          `--param="subnetIds=subnet-...,subnet-..." (got '${subnetIds ?? ''}'); the load balancer needs two Availability Zones`,
      );
    }
    if (!IMAGE_TAG.test(String(gpuTaskImageTag ?? ''))) {
      this.refuse(`gpuTask=true needs the tag of the image pushed to ECR: --param="gpuTaskImageTag=<tag>" (got '${gpuTaskImageTag ?? ''}')`);
    }
  }

  refuse(message) {
    throw new this.serverless.classes.Error(message, 'HOTPATH_GPU_TASK_PARAMS');
  }
}

module.exports = GpuTaskParamsCheck;
