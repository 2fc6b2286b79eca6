import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_ARTIFACTS } from '../../../layers/models/default-models';
import { ManifestError, parseModelManifest, readModelManifest } from '../../../lib/models/model-manifest';

function model(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'iris-classifier',
    version: '1',
    platform: 'onnx_onnxv1',
    file: 'iris-classifier/1/model.onnx',
    sha256: 'a'.repeat(64),
    bytes: 1350,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
    outputs: [{ name: 'label', datatype: 'INT64', shape: [-1] }],
    maxBatchSize: 64,
    serveByDefault: true,
    ...overrides,
  };
}

function manifestError(run: () => unknown): ManifestError {
  try {
    run();
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('expected a ManifestError, nothing was thrown');
}

describe('model-manifest', () => {
  describe('parseModelManifest', () => {
    it('returns the manifest when every model is well formed', () => {
      // Prepare
      const manifest = { schemaVersion: 1, models: [model(), model({ name: 'silero-vad', inputs: [{ name: 'sr', datatype: 'INT64', shape: [] }] })] };

      // Act
      const parsed = parseModelManifest(manifest);

      // Assess
      expect(parsed.models.map((m) => m.name)).toEqual(['iris-classifier', 'silero-vad']);
    });

    it.each([
      ['not an object', 'manifest'],
      ['a wrong schemaVersion', { schemaVersion: 2, models: [] }],
      ['no models array', { schemaVersion: 1, models: {} }],
      ['null', null],
    ])('refuses a manifest that is %s', (_, value) => {
      // Act
      const error = manifestError(() => parseModelManifest(value, 'm.json'));

      // Assess
      expect(error.message).toBe('m.json: expected {"schemaVersion": 1, "models": [...]}');
      expect(error.status).toBe(500);
      expect(error.expose).toBe(false);
    });

    it.each([
      ['name', { name: '' }, 'models[0] (): "name" must be a non-empty string'],
      ['version', { version: 1 }, 'models[0] (iris-classifier): "version" must be a non-empty string'],
      ['platform', { platform: undefined }, 'models[0] (iris-classifier): "platform" must be a non-empty string'],
      ['file', { file: '' }, 'models[0] (iris-classifier): "file" must be a non-empty string'],
      ['sha256 (upper case)', { sha256: 'A'.repeat(64) }, 'models[0] (iris-classifier): "sha256" must be 64 lower-case hex digits'],
      ['sha256 (short)', { sha256: 'a'.repeat(63) }, 'models[0] (iris-classifier): "sha256" must be 64 lower-case hex digits'],
      ['bytes', { bytes: -1 }, 'models[0] (iris-classifier): "bytes" must be a non-negative integer'],
      ['maxBatchSize', { maxBatchSize: 1.5 }, 'models[0] (iris-classifier): "maxBatchSize" must be a non-negative integer'],
      ['serveByDefault', { serveByDefault: 'yes' }, 'models[0] (iris-classifier): "serveByDefault" must be true or false'],
      ['inputs (empty)', { inputs: [] }, 'models[0] (iris-classifier): "inputs" must be a non-empty array'],
      ['outputs (missing)', { outputs: undefined }, 'models[0] (iris-classifier): "outputs" must be a non-empty array'],
      [
        'inputs (datatype)',
        { inputs: [{ name: 'input', datatype: 'FLOAT', shape: [1] }] },
        'models[0] (iris-classifier): inputs entry {"name":"input","datatype":"FLOAT","shape":[1]} must be {name, datatype, shape} with dims >= -1',
      ],
      [
        'outputs (dim)',
        { outputs: [{ name: 'y', datatype: 'FP32', shape: [-2] }] },
        'models[0] (iris-classifier): outputs entry {"name":"y","datatype":"FP32","shape":[-2]} must be {name, datatype, shape} with dims >= -1',
      ],
      [
        'inputs (name)',
        { inputs: [{ datatype: 'FP32', shape: [1] }] },
        'models[0] (iris-classifier): inputs entry {"datatype":"FP32","shape":[1]} must be {name, datatype, shape} with dims >= -1',
      ],
    ])('names the model and field when %s is bad', (_, overrides, message) => {
      // Act
      const error = manifestError(() => parseModelManifest({ schemaVersion: 1, models: [model(overrides)] }, 'm.json'));

      // Assess
      expect(error.message).toBe(`m.json: ${message}`);
    });

    it('takes an ONNX model saved pre-optimised at basic or extended', () => {
      // Act
      const parsed = parseModelManifest({ schemaVersion: 1, models: [model({ optimized: 'extended' }), model({ name: 'vad', optimized: 'basic' })] });

      // Assess
      expect(parsed.models.map((m) => m.optimized)).toEqual(['extended', 'basic']);
    });

    it.each([
      ['a level onnxruntime cannot save portably', { optimized: 'all' }, '"optimized" must be "basic" or "extended", got "all"'],
      ['not a string', { optimized: true }, '"optimized" must be "basic" or "extended", got true'],
    ])('refuses "optimized" that is %s', (_, overrides, message) => {
      // Act
      const error = manifestError(() => parseModelManifest({ schemaVersion: 1, models: [model(overrides)] }, 'm.json'));

      // Assess
      expect(error.message).toBe(`m.json: models[0] (iris-classifier): ${message}`);
    });

    it('names the index of the bad model when it is not the first', () => {
      // Act
      const error = manifestError(() => parseModelManifest({ schemaVersion: 1, models: [model(), model({ name: 'vad', bytes: 'many' })] }, 'm.json'));

      // Assess
      expect(error.message).toBe('m.json: models[1] (vad): "bytes" must be a non-negative integer');
    });

    it('refuses a model entry that is not an object', () => {
      // Act
      const error = manifestError(() => parseModelManifest({ schemaVersion: 1, models: [null] }, 'm.json'));

      // Assess
      expect(error.message).toBe('m.json: models[0] (?): must be an object');
    });

    it('refuses the same name and version twice and takes two versions of one name', () => {
      // Act
      const twice = manifestError(() => parseModelManifest({ schemaVersion: 1, models: [model(), model()] }, 'm.json'));
      const versions = parseModelManifest({ schemaVersion: 1, models: [model(), model({ version: '2' })] });

      // Assess
      expect(twice.message).toBe("m.json: model 'iris-classifier' version '1' appears twice");
      expect(versions.models.map((m) => m.version)).toEqual(['1', '2']);
    });
  });

  describe('parseModelManifest constraints', () => {
    const vad = (constraints: unknown) => model({
      name: 'silero-vad',
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [-1, -1] },
        { name: 'state', datatype: 'FP32', shape: [2, -1, 128] },
        { name: 'sr', datatype: 'INT64', shape: [] },
        { name: 'text', datatype: 'BYTES', shape: [1] },
      ],
      constraints,
    });
    const parse = (constraints: unknown) => parseModelManifest({ schemaVersion: 1, models: [vad(constraints)] }, 'm.json');
    const GOOD = {
      sr: { oneOf: [8000, 16000], unit: 'Hz' },
      input: { dims: [{ axis: 0, label: 'batch', min: 1 }, { axis: 1, byValueOf: { input: 'sr', sizes: { 16000: 576, 8000: 288 } }, hint: 'send 576' }] },
      state: { dims: [{ axis: 1, equalsDimOf: { input: 'input', axis: 0 } }] },
    };

    it('keeps well-formed constraints as written', () => {
      // Act
      const parsed = parse(GOOD);

      // Assess
      expect(parsed.models[0]!.constraints).toEqual(GOOD);
    });

    it('accepts every default model\'s manifest fields, constraints included', () => {
      // Prepare: the entries the build writes, with made-up sha256 and sizes (the parser checks their form, not a file).
      const models = MODEL_ARTIFACTS.map((spec) => ({
        name: spec.name, version: spec.version, platform: spec.platform, file: spec.file, sha256: 'a'.repeat(64), bytes: 1, ...spec.manifest,
      }));

      // Act
      const parsed = parseModelManifest({ schemaVersion: 1, models });

      // Assess
      const withConstraints = parsed.models.filter((m) => m.constraints !== undefined).map((m) => m.name);
      expect(withConstraints).toEqual(expect.arrayContaining(['silero-vad', 'text-detector']));
    });

    it.each([
      ['not an object', [], '"constraints" must be an object keyed by input name'],
      ['an unknown input', { rate: { oneOf: [1] } }, '"constraints.rate" names no input; the inputs are: input, state, sr, text'],
      ['an entry that is not an object', { sr: 8000 }, '"constraints.sr" must be an object with "oneOf", "unit" or "dims"'],
      ['a misspelt key', { sr: { oneof: [8000] } }, '"constraints.sr" has unknown key "oneof"; known: oneOf, unit, dims'],
      ['oneOf on BYTES', { text: { oneOf: [1] } }, '"constraints.text".oneOf: input \'text\' is BYTES; "oneOf" takes numeric inputs'],
      ['an empty oneOf', { sr: { oneOf: [] } }, '"constraints.sr".oneOf must be a non-empty array of safe integers (input \'sr\' is INT64)'],
      ['a fraction in an integer oneOf', { sr: { oneOf: [8000.5] } }, '"constraints.sr".oneOf must be a non-empty array of safe integers (input \'sr\' is INT64)'],
      ['a unit without oneOf', { sr: { unit: 'Hz' } }, '"constraints.sr".unit must be a non-empty string beside "oneOf"'],
      ['empty dims', { input: { dims: [] } }, '"constraints.input".dims must be a non-empty array of {axis, ...}'],
      ['an axis past the rank', { input: { dims: [{ axis: 2, min: 1 }] } }, '"constraints.input".dims[0].axis must be an integer from 0 to 1 (input \'input\' has shape [-1,-1])'],
      ['a fixed dim', { state: { dims: [{ axis: 2, min: 1 }] } }, '"constraints.state".dims[0]: dim 2 of input \'state\' is fixed at 128 by its shape; constrain variable (-1) dims only'],
      ['a dim with no rule', { input: { dims: [{ axis: 0, label: 'batch' }] } }, '"constraints.input".dims[0] has no rule; give "min", "multipleOf", "equalsDimOf" or "byValueOf"'],
      ['a misspelt dim key', { input: { dims: [{ axis: 0, minimum: 1 }] } }, '"constraints.input".dims[0] has unknown key "minimum"; known: axis, label, min, multipleOf, equalsDimOf, byValueOf, hint'],
      ['a min of 0', { input: { dims: [{ axis: 0, min: 0 }] } }, '"constraints.input".dims[0].min must be a positive integer, got 0'],
      ['a multipleOf of 1', { input: { dims: [{ axis: 0, multipleOf: 1 }] } }, '"constraints.input".dims[0].multipleOf must be an integer >= 2, got 1'],
      ['an empty hint', { input: { dims: [{ axis: 0, min: 1, hint: '' }] } }, '"constraints.input".dims[0].hint must be a non-empty string'],
      ['one axis twice', { input: { dims: [{ axis: 0, min: 1 }, { axis: 0, multipleOf: 2 }] } }, '"constraints.input".dims[1]: axis 0 appears twice; put its rules in one entry'],
      ['equalsDimOf an unknown input', { state: { dims: [{ axis: 1, equalsDimOf: { input: 'audio', axis: 0 } }] } }, '"constraints.state".dims[0].equalsDimOf must be {input, axis} naming a dim of another input, got {"input":"audio","axis":0}'],
      ['equalsDimOf itself', { state: { dims: [{ axis: 1, equalsDimOf: { input: 'state', axis: 1 } }] } }, '"constraints.state".dims[0].equalsDimOf names the dim itself'],
      ['byValueOf a multi-element input', { input: { dims: [{ axis: 1, byValueOf: { input: 'state', sizes: { 1: 2 } } }] } }, '"constraints.input".dims[0].byValueOf: input \'state\' must be a one-element numeric input (shape [] or all 1s), it is FP32 [2,-1,128]'],
      ['byValueOf with no sizes', { input: { dims: [{ axis: 1, byValueOf: { input: 'sr', sizes: {} } }] } }, '"constraints.input".dims[0].byValueOf.sizes must map values of \'sr\' to sizes, e.g. {"16000": 576}'],
      ['a size key that is not a number', { input: { dims: [{ axis: 1, byValueOf: { input: 'sr', sizes: { '16k': 576 } } }] } }, '"constraints.input".dims[0].byValueOf.sizes: key "16k" is not a number as JavaScript prints it'],
      ['a size that is not an integer', { input: { dims: [{ axis: 1, byValueOf: { input: 'sr', sizes: { 16000: 5.5 } } }] } }, '"constraints.input".dims[0].byValueOf.sizes["16000"] must be a non-negative integer, got 5.5'],
      [
        'sizes that miss an allowed value',
        { sr: { oneOf: [8000, 16000] }, input: { dims: [{ axis: 1, byValueOf: { input: 'sr', sizes: { 16000: 576 } } }] } },
        '"constraints.input".dims[0].byValueOf.sizes must have one size per value of "constraints.sr.oneOf" (8000, 16000), has 16000',
      ],
    ])('names the model and the rule when constraints have %s', (_, constraints, message) => {
      // Act
      const error = manifestError(() => parse(constraints));

      // Assess
      expect(error.message).toBe(`m.json: models[0] (silero-vad): ${message}`);
    });
  });

  describe('readModelManifest', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hotpath-manifest-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads and checks manifest.json in the folder', async () => {
      // Prepare
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ schemaVersion: 1, models: [model()] }));

      // Act
      const manifest = await readModelManifest(dir);

      // Assess
      expect(manifest.models[0]!.name).toBe('iris-classifier');
    });

    it('says how to build the models when manifest.json is missing', async () => {
      // Act
      const error = await readModelManifest(dir).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(ManifestError);
      expect((error as Error).message).toBe(
        `model manifest '${join(dir, 'manifest.json')}' cannot be read (run \`npm run build:layers\`, or set HOTPATH_MODELS_DIR)`,
      );
    });

    it('names the file when manifest.json is not JSON', async () => {
      // Prepare
      writeFileSync(join(dir, 'manifest.json'), '{"schemaVersion": 1,');

      // Act
      const error = await readModelManifest(dir).catch((e: unknown) => e);

      // Assess
      expect((error as Error).message.startsWith(`model manifest '${join(dir, 'manifest.json')}' is not valid JSON: `)).toBe(true);
    });

    it('names the file and model when an entry is bad', async () => {
      // Prepare
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ schemaVersion: 1, models: [model({ sha256: 'nope' })] }));

      // Act
      const error = await readModelManifest(dir).catch((e: unknown) => e);

      // Assess
      expect((error as Error).message).toBe(`${join(dir, 'manifest.json')}: models[0] (iris-classifier): "sha256" must be 64 lower-case hex digits`);
    });
  });
});
