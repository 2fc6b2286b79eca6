'use strict';

const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');

/** A bucket name as S3 allows it (lib/models/s3-uri.ts). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `--param="s3Models=true"` grants the functions' role s3:GetObject on
 * arn:aws:s3:::<s3ModelsBucket>/<s3ModelsKeyPrefix>* (serverless.yml, custom.s3ModelsVariants), the
 * objects of models whose manifest has `s3Prefix`. Fails `serverless package` / `deploy` before
 * any zip is made when that grant is malformed, or when the models layer to deploy has models in
 * S3 the grant does not cover: such a function would only fail at INIT, with AccessDenied.
 */
class S3ModelsParamsCheck {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.check(),
    };
  }

  check() {
    const settings = (this.serverless.service.custom || {}).s3Models || {};
    const enabled = String(settings.enabled);
    if (enabled !== 'true' && enabled !== 'false') this.refuse(`--param="s3Models=${enabled}" must be true or false`);
    const bucket = String(settings.bucket ?? '');
    const keyPrefix = String(settings.keyPrefix ?? '');
    if (enabled === 'true') {
      if (!BUCKET.test(bucket)) this.refuse(`s3Models=true needs the models' bucket: --param="s3ModelsBucket=<bucket>" (got '${bucket}')`);
      if (keyPrefix !== '' && (!keyPrefix.endsWith('/') || keyPrefix.startsWith('/') || keyPrefix.includes('//') || keyPrefix.includes('*'))) {
        this.refuse(`--param="s3ModelsKeyPrefix=${keyPrefix}" must be empty or a key prefix ending in '/', e.g. models/`);
      }
    }
    const granted = enabled === 'true' ? `s3://${bucket}/${keyPrefix}` : undefined;
    for (const [layerName, layer] of Object.entries(this.serverless.service.layers || {})) {
      const manifestPath = path.resolve(this.serverless.serviceDir, layer.path || '', 'models', 'manifest.json');
      if (!existsSync(manifestPath)) continue;
      const models = JSON.parse(readFileSync(manifestPath, 'utf8')).models || [];
      for (const model of models) {
        if (typeof model.s3Prefix !== 'string' || (granted !== undefined && model.s3Prefix.startsWith(granted))) continue;
        const location = /^s3:\/\/([^/]+)\/(.*)$/.exec(model.s3Prefix);
        this.refuse(
          `layer '${layerName}' (${layer.path}) serves ${model.name}@${model.version} from ${model.s3Prefix}, which ` +
            (granted === undefined ? 'the stack grants no access to' : `the grant on ${granted} does not cover`) +
            `; package with --param="s3Models=true" --param="s3ModelsBucket=${location ? location[1] : '<bucket>'}" ` +
            `--param="s3ModelsKeyPrefix=${location ? location[2] : '<prefix>/'}" (npm run package passes them from HOTPATH_S3_PREFIX)`,
        );
      }
    }
  }

  refuse(message) {
    throw new this.serverless.classes.Error(message, 'HOTPATH_S3_MODELS_PARAMS');
  }
}

module.exports = S3ModelsParamsCheck;
