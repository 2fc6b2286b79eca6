'use strict';

/**
 * `serverless package` asks CloudFormation (describeStacks) whether each layer is already
 * uploaded, which fails with no AWS account. With HOTPATH_OFFLINE_PACKAGE=1 this plugin turns
 * that per-layer check into a no-op, so packaging runs offline; deploys keep the check.
 */
class OfflineLayerCheck {
  constructor(serverless) {
    this.hooks = {
      'before:package:compileLayers': () => {
        if (process.env.HOTPATH_OFFLINE_PACKAGE !== '1') return;
        const compiler = serverless.pluginManager.plugins.find((p) => p.constructor.name === 'AwsCompileLayers');
        if (!compiler) throw new Error('offline-layer-check: AwsCompileLayers plugin not found; is this still osls 4?');
        compiler.compareWithLastLayer = async function skipLayerCheck() {};
      },
    };
  }
}

module.exports = OfflineLayerCheck;
