import { assertModelsFitLambda } from '../../../layers/models/model-repository/lambda-size-check';
import type { ManifestModel, ModelManifest } from '../../../lib/models/model-manifest-types';

const MB = 1024 * 1024;

function manifestOf(sizes: Record<string, number>): ModelManifest {
  const models = Object.entries(sizes).map(([name, mb]): ManifestModel => ({
    name, version: '1', platform: 'onnx_onnxv1', file: `${name}/1/model.onnx`, sha256: '0'.repeat(64), bytes: mb * MB,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }], maxBatchSize: 1, serveByDefault: true,
  }));
  return { schemaVersion: 1, models };
}

describe('assertModelsFitLambda', () => {
  it('accepts models that fit beside the runtime layer and the function', () => {
    expect(() => assertModelsFitLambda(manifestOf({ a: 100, b: 100 }), { runtimeLayer: 14 * MB, functionCode: 1 * MB })).not.toThrow();
  });

  it('names the largest models to move until the rest fits, when the total is over 250 MB', () => {
    const over = () => assertModelsFitLambda(manifestOf({ small: 10, large: 150, medium: 90 }), { runtimeLayer: 14 * MB, functionCode: 1 * MB });

    expect(over).toThrow(
      "the served models (250.0 MB), the runtime layer (14.0 MB) and the function code (1.0 MB) come to 265.0 MB, over Lambda's 250.0 MB unzipped for a function and its layers; serve large@1 (150.0 MB) from S3 (`npm run build:layers -- --s3-models large --s3-prefix s3://BUCKET/PREFIX/`: downloaded into /tmp at INIT) or from the container task",
    );
  });

  it('leaves out the models served from S3 (manifest s3Prefix): their files are not in the layer', () => {
    const manifest = manifestOf({ small: 10, large: 150, medium: 90 });
    const withS3 = { ...manifest, models: manifest.models.map((m) => (m.name === 'large' ? { ...m, s3Prefix: 's3://b/' } : m)) };

    expect(() => assertModelsFitLambda(withS3, { runtimeLayer: 14 * MB, functionCode: 1 * MB })).not.toThrow();
  });
});
