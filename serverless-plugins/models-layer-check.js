'use strict';

const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');

/** Written beside `models/` by layers/models/build-production-models-layer.ts. */
const SELECTION_FILE = 'selection.json';

/** HOTPATH_MODELS spelled one way: trimmed, `default` when empty, names without spaces. */
function normalizeSelection(raw) {
  const value = String(raw ?? '').trim();
  if (value === '' || value === 'default' || value === '*') return value || 'default';
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0)
    .join(',');
}

/**
 * The deployed models layer holds only the models HOTPATH_MODELS selected when the layers were
 * built (layers/models/build-production, see its selection.json). Packaging a function whose
 * HOTPATH_MODELS differs would deploy a function that cannot load what it is told to serve, so
 * this plugin fails `serverless package` / `deploy` before any zip is made, saying what to run.
 */
class ModelsLayerCheck {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.check(),
    };
  }

  check() {
    const service = this.serverless.service;
    const naming = this.serverless.getProvider('aws').naming;
    for (const [layerName, layer] of Object.entries(service.layers || {})) {
      const recordPath = path.resolve(this.serverless.serviceDir, layer.path || '', SELECTION_FILE);
      if (!existsSync(recordPath)) continue;
      const built = JSON.parse(readFileSync(recordPath, 'utf8')).HOTPATH_MODELS;
      const logicalId = naming.getLambdaLayerLogicalId(layerName);
      for (const functionName of service.getAllFunctions()) {
        const fn = service.getFunction(functionName);
        const refs = fn.layers || service.provider.layers || [];
        if (!refs.some((ref) => ref && ref.Ref === logicalId)) continue;
        const environment = { ...(service.provider.environment || {}), ...(fn.environment || {}) };
        const wanted = normalizeSelection(environment.HOTPATH_MODELS);
        if (wanted !== normalizeSelection(built)) {
          throw new this.serverless.classes.Error(
            `function '${functionName}' serves HOTPATH_MODELS='${wanted}' but layer '${layerName}' (${layer.path}) was built for '${built}'; ` +
              `run \`HOTPATH_MODELS='${wanted}' npm run build:layers\` first (npm run package does)`,
            'HOTPATH_MODELS_LAYER_MISMATCH',
          );
        }
      }
    }
  }
}

module.exports = ModelsLayerCheck;
