'use strict';

const { existsSync } = require('node:fs');
const path = require('node:path');

const LAYER_MOUNT = '/opt/';

/**
 * `serverless invoke local` runs the handler in this process without the function's layers,
 * so environment values that point into /opt (HOTPATH_MODELS_DIR=/opt/models,
 * HOTPATH_ORT_WEB_DIR=/opt/nodejs/node_modules/onnxruntime-web) name folders that do not exist
 * here. Lambda mounts every layer's content at /opt; this plugin does the same for those
 * values: each one under /opt that is missing locally is pointed at the first of the
 * function's layers (their `path` folders, as `npm run build` leaves them) that holds it.
 * Values that exist (a real /opt, or `-e NAME=...` pointing elsewhere) are left alone.
 */
class InvokeLocalLayers {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.hooks = {
      'before:invoke:local:invoke': () => this.mountLayers(),
    };
  }

  /** The `path` folders of the function's layers that this stack builds, in the function's order. */
  layerFolders() {
    const service = this.serverless.service;
    const naming = this.serverless.getProvider('aws').naming;
    const byLogicalId = new Map(
      Object.entries(service.layers || {}).map(([name, layer]) => [naming.getLambdaLayerLogicalId(name), layer]),
    );
    const functionLayers = service.getFunction(this.options.function).layers || service.provider.layers || [];
    return functionLayers
      .map((layer) => (layer && typeof layer === 'object' ? byLogicalId.get(layer.Ref) : undefined))
      .filter((layer) => layer !== undefined && typeof layer.path === 'string')
      .map((layer) => path.resolve(this.serverless.serviceDir, layer.path));
  }

  mountLayers() {
    const folders = this.layerFolders();
    const log = this.serverless.cli;
    for (const [name, value] of Object.entries(process.env)) {
      if (typeof value !== 'string' || !value.startsWith(LAYER_MOUNT) || existsSync(value)) continue;
      const inLayer = value.slice(LAYER_MOUNT.length);
      const folder = folders.find((candidate) => existsSync(path.join(candidate, inLayer)));
      if (folder === undefined) {
        log.log(`invoke-local-layers: ${name}=${value} is in none of the function's layer folders (${folders.join(', ') || 'none'}); run npm run build`);
        continue;
      }
      process.env[name] = path.join(folder, inLayer);
    }
  }
}

module.exports = InvokeLocalLayers;
