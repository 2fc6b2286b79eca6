import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HotpathError } from '../errors/hotpath-error';
import { isFloatDatatype, isOipDatatype } from '../protocol/datatypes';
import type { TensorSignature } from '../protocol/tensor';
import { parseS3Uri } from './s3-uri';
import type { DimConstraint, DynamicBatchingSettings, InputConstraint, ManifestModel, ModelManifest } from './model-manifest-types';

/** The manifest itself is unreadable or malformed: nothing can be served, so the cold start fails. */
export class ManifestError extends HotpathError {
  constructor(message: string, cause?: unknown) {
    super(message, { status: 500, expose: false, cause });
  }
}

/** Reads and checks `<modelsDir>/manifest.json`. Structural errors name the model and field. */
export async function readModelManifest(modelsDir: string): Promise<ModelManifest> {
  const path = join(modelsDir, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    throw new ManifestError(`model manifest '${path}' cannot be read (run \`npm run build:layers\`, or set HOTPATH_MODELS_DIR)`, error);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ManifestError(`model manifest '${path}' is not valid JSON: ${(error as Error).message}`, error);
  }
  return parseModelManifest(parsed, path);
}

export function parseModelManifest(value: unknown, source = 'manifest'): ModelManifest {
  const manifest = value as Partial<ModelManifest>;
  if (typeof manifest !== 'object' || manifest === null || manifest.schemaVersion !== 1 || !Array.isArray(manifest.models)) {
    throw new ManifestError(`${source}: expected {"schemaVersion": 1, "models": [...]}`);
  }
  const seen = new Set<string>();
  for (const [index, model] of manifest.models.entries()) {
    checkModel(model, `${source}: models[${index}]`);
    const key = `${model.name}@${model.version}`;
    if (seen.has(key)) throw new ManifestError(`${source}: model '${model.name}' version '${model.version}' appears twice`);
    seen.add(key);
  }
  return manifest as ModelManifest;
}

function checkModel(model: ManifestModel, where: string): void {
  const fail = (what: string): never => {
    throw new ManifestError(`${where} (${(model as { name?: unknown })?.name ?? '?'}): ${what}`);
  };
  if (typeof model !== 'object' || model === null) fail('must be an object');
  for (const field of ['name', 'version', 'platform', 'file', 'sha256'] as const) {
    if (typeof model[field] !== 'string' || model[field].length === 0) fail(`"${field}" must be a non-empty string`);
  }
  if (!/^[0-9a-f]{64}$/.test(model.sha256)) fail('"sha256" must be 64 lower-case hex digits');
  if (model.s3Prefix !== undefined && (typeof model.s3Prefix !== 'string' || !model.s3Prefix.endsWith('/') || parseS3Uri(`${model.s3Prefix}${model.file}`) === undefined)) {
    fail(`"s3Prefix" must be s3://bucket/ or s3://bucket/prefix/ (ending in /), got ${JSON.stringify(model.s3Prefix)}`);
  }
  if (!Number.isInteger(model.bytes) || model.bytes < 0) fail('"bytes" must be a non-negative integer');
  if (!Number.isInteger(model.maxBatchSize) || model.maxBatchSize < 0) fail('"maxBatchSize" must be a non-negative integer');
  if (typeof model.serveByDefault !== 'boolean') fail('"serveByDefault" must be true or false');
  // Only ONNX backends read it (the build optimises ONNX graphs only); other platforms ignore it.
  if (model.optimized !== undefined && model.optimized !== 'basic' && model.optimized !== 'extended') {
    fail(`"optimized" must be "basic" or "extended", got ${JSON.stringify(model.optimized)}`);
  }
  for (const kind of ['inputs', 'outputs'] as const) {
    const list = model[kind];
    if (!Array.isArray(list) || list.length === 0) fail(`"${kind}" must be a non-empty array`);
    for (const signature of list) {
      if (typeof signature?.name !== 'string' || !isOipDatatype(signature.datatype) || !Array.isArray(signature.shape)
        || !signature.shape.every((d: number) => Number.isInteger(d) && d >= -1)) {
        fail(`${kind} entry ${JSON.stringify(signature)} must be {name, datatype, shape} with dims >= -1`);
      }
    }
  }
  if (model.constraints !== undefined) checkConstraints(model.constraints, model.inputs, fail);
  if (model.dynamicBatching !== undefined) checkDynamicBatching(model.dynamicBatching, model.maxBatchSize, fail);
  if (model.versionPolicy !== undefined) checkVersionPolicy(model.versionPolicy, fail);
  if (model.parameters !== undefined && (!isPlainObject(model.parameters) || !Object.values(model.parameters).every((v) => typeof v === 'string'))) {
    fail('"parameters" must be an object of string values');
  }
  if (model.kernel !== undefined) checkKernelPlan(model, fail);
  if (model.kernelRefused !== undefined && (typeof model.kernelRefused !== 'string' || model.kernel !== undefined)) {
    fail('"kernelRefused" must be a string, and only on a model without "kernel"');
  }
}

/**
 * `kernel`: a file named after its executor (`*.<executor>.bin`, the kernel backend finds the
 * executor by it), its size and hash. Only ONNX models are served by it; other platforms ignore it.
 */
function checkKernelPlan(model: ManifestModel, fail: (what: string) => never): void {
  const plan = model.kernel as unknown;
  if (!isPlainObject(plan)) fail('"kernel" must be an object {executor, file, sha256, bytes, reason}');
  const { executor, file, sha256, bytes, reason } = plan as Record<string, unknown>;
  if (typeof executor !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(executor)) fail(`"kernel.executor" must be a lower-case name such as "feed-forward", got ${JSON.stringify(executor)}`);
  if (typeof file !== 'string' || !file.endsWith(`.${executor as string}.bin`)) fail(`"kernel.file" must be a path ending in ".${executor as string}.bin", got ${JSON.stringify(file)}`);
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) fail('"kernel.sha256" must be 64 lower-case hex digits');
  if (!Number.isInteger(bytes) || (bytes as number) < 0) fail('"kernel.bytes" must be a non-negative integer');
  if (typeof reason !== 'string' || reason.length === 0) fail('"kernel.reason" must be a non-empty string');
}

function checkVersionPolicy(policy: unknown, fail: (what: string) => never): void {
  const object = isPlainObject(policy) ? policy : {};
  const keys = Object.keys(object);
  const valid = keys.length === 1 && (
    (keys[0] === 'latest' && Number.isSafeInteger(object.latest) && (object.latest as number) >= 1)
    || (keys[0] === 'all' && object.all === true)
    || (keys[0] === 'specific' && Array.isArray(object.specific) && object.specific.length > 0 && object.specific.every((v) => Number.isSafeInteger(v) && v >= 0))
  );
  if (!valid) fail(`"versionPolicy" must be {"latest": n >= 1}, {"all": true} or {"specific": [versions]}, got ${JSON.stringify(policy)}`);
}

const INPUT_CONSTRAINT_KEYS = new Set(['oneOf', 'unit', 'dims']);
const DIM_CONSTRAINT_KEYS = new Set(['axis', 'label', 'min', 'multipleOf', 'equalsDimOf', 'byValueOf', 'hint']);

/**
 * `constraints` must name declared inputs, use only known keys (a typo would silently check
 * nothing), and refer to dims and inputs that exist: the validator trusts what passes here.
 */
function checkConstraints(constraints: unknown, inputs: readonly TensorSignature[], fail: (what: string) => never): void {
  if (!isPlainObject(constraints)) fail('"constraints" must be an object keyed by input name');
  const byName = new Map(inputs.map((s) => [s.name, s]));
  for (const [name, constraint] of Object.entries(constraints as Record<string, unknown>)) {
    const at = `"constraints.${name}"`;
    const signature = byName.get(name);
    if (!signature) fail(`${at} names no input; the inputs are: ${inputs.map((s) => s.name).join(', ')}`);
    if (!isPlainObject(constraint)) fail(`${at} must be an object with "oneOf", "unit" or "dims"`);
    const unknownKey = Object.keys(constraint).find((key) => !INPUT_CONSTRAINT_KEYS.has(key));
    if (unknownKey !== undefined) fail(`${at} has unknown key "${unknownKey}"; known: ${[...INPUT_CONSTRAINT_KEYS].join(', ')}`);
    const { oneOf, unit, dims } = constraint as InputConstraint;
    if (oneOf !== undefined) checkOneOf(oneOf, signature!, at, fail);
    if (unit !== undefined && (typeof unit !== 'string' || unit.length === 0 || oneOf === undefined)) {
      fail(`${at}.unit must be a non-empty string beside "oneOf"`);
    }
    if (dims !== undefined) {
      if (!Array.isArray(dims) || dims.length === 0) fail(`${at}.dims must be a non-empty array of {axis, ...}`);
      const axes = new Set<number>();
      for (const [index, dim] of dims.entries()) {
        checkDimConstraint(dim, signature!, byName, `${at}.dims[${index}]`, constraints as Record<string, InputConstraint>, fail);
        if (axes.has(dim.axis)) fail(`${at}.dims[${index}]: axis ${dim.axis} appears twice; put its rules in one entry`);
        axes.add(dim.axis);
      }
    }
  }
}

function checkOneOf(oneOf: unknown, signature: TensorSignature, at: string, fail: (what: string) => never): void {
  if (signature.datatype === 'BYTES') fail(`${at}.oneOf: input '${signature.name}' is BYTES; "oneOf" takes numeric inputs`);
  const integers = !isFloatDatatype(signature.datatype);
  if (!Array.isArray(oneOf) || oneOf.length === 0 || !oneOf.every((v) => typeof v === 'number' && (integers ? Number.isSafeInteger(v) : Number.isFinite(v)))) {
    fail(`${at}.oneOf must be a non-empty array of ${integers ? 'safe integers' : 'finite numbers'} (input '${signature.name}' is ${signature.datatype})`);
  }
}

function checkDimConstraint(
  dim: DimConstraint, signature: TensorSignature, byName: ReadonlyMap<string, TensorSignature>, at: string,
  constraints: Readonly<Record<string, InputConstraint>>, fail: (what: string) => never,
): void {
  if (!isPlainObject(dim)) fail(`${at} must be an object {axis, ...}`);
  const unknownKey = Object.keys(dim).find((key) => !DIM_CONSTRAINT_KEYS.has(key));
  if (unknownKey !== undefined) fail(`${at} has unknown key "${unknownKey}"; known: ${[...DIM_CONSTRAINT_KEYS].join(', ')}`);
  const rank = signature.shape.length;
  if (!Number.isInteger(dim.axis) || dim.axis < 0 || dim.axis >= rank) {
    fail(`${at}.axis must be an integer from 0 to ${rank - 1} (input '${signature.name}' has shape ${JSON.stringify(signature.shape)})`);
  }
  if (signature.shape[dim.axis] !== -1) {
    fail(`${at}: dim ${dim.axis} of input '${signature.name}' is fixed at ${signature.shape[dim.axis]} by its shape; constrain variable (-1) dims only`);
  }
  const { label, min, multipleOf, equalsDimOf, byValueOf, hint } = dim;
  if (min === undefined && multipleOf === undefined && equalsDimOf === undefined && byValueOf === undefined) {
    fail(`${at} has no rule; give "min", "multipleOf", "equalsDimOf" or "byValueOf"`);
  }
  for (const [key, text] of [['label', label], ['hint', hint]] as const) {
    if (text !== undefined && (typeof text !== 'string' || text.length === 0)) fail(`${at}.${key} must be a non-empty string`);
  }
  if (min !== undefined && (!Number.isSafeInteger(min) || min < 1)) fail(`${at}.min must be a positive integer, got ${JSON.stringify(min)}`);
  if (multipleOf !== undefined && (!Number.isSafeInteger(multipleOf) || multipleOf < 2)) {
    fail(`${at}.multipleOf must be an integer >= 2, got ${JSON.stringify(multipleOf)}`);
  }
  if (equalsDimOf !== undefined) {
    const other = isPlainObject(equalsDimOf) ? byName.get(equalsDimOf.input) : undefined;
    if (!other || !Number.isInteger(equalsDimOf.axis) || equalsDimOf.axis < 0 || equalsDimOf.axis >= other.shape.length) {
      fail(`${at}.equalsDimOf must be {input, axis} naming a dim of another input, got ${JSON.stringify(equalsDimOf)}`);
    }
    if (other!.name === signature.name && equalsDimOf.axis === dim.axis) fail(`${at}.equalsDimOf names the dim itself`);
  }
  if (byValueOf !== undefined) checkByValueOf(byValueOf, byName, at, constraints, fail);
}

function checkByValueOf(
  byValueOf: NonNullable<DimConstraint['byValueOf']>, byName: ReadonlyMap<string, TensorSignature>, at: string,
  constraints: Readonly<Record<string, InputConstraint>>, fail: (what: string) => never,
): void {
  const source = isPlainObject(byValueOf) ? byName.get(byValueOf.input) : undefined;
  if (!source) fail(`${at}.byValueOf must be {input, sizes} naming another input, got ${JSON.stringify(byValueOf)}`);
  if (source!.datatype === 'BYTES' || !source!.shape.every((d) => d === 1)) {
    fail(`${at}.byValueOf: input '${source!.name}' must be a one-element numeric input (shape [] or all 1s), it is ${source!.datatype} ${JSON.stringify(source!.shape)}`);
  }
  const sizes = byValueOf.sizes;
  const keys = isPlainObject(sizes) ? Object.keys(sizes) : [];
  if (keys.length === 0) fail(`${at}.byValueOf.sizes must map values of '${source!.name}' to sizes, e.g. {"16000": 576}`);
  for (const key of keys) {
    if (String(Number(key)) !== key) fail(`${at}.byValueOf.sizes: key "${key}" is not a number as JavaScript prints it`);
    const size = sizes[key];
    if (!Number.isSafeInteger(size) || size! < 0) fail(`${at}.byValueOf.sizes["${key}"] must be a non-negative integer, got ${JSON.stringify(size)}`);
  }
  const allowed = constraints[source!.name]?.oneOf;
  if (allowed !== undefined) {
    const missing = allowed.filter((value) => !keys.includes(String(value)));
    const extra = keys.filter((key) => !allowed.includes(Number(key)));
    if (missing.length > 0 || extra.length > 0) {
      fail(`${at}.byValueOf.sizes must have one size per value of "constraints.${source!.name}.oneOf" (${allowed.join(', ')}), has ${keys.join(', ')}`);
    }
  }
}

const DYNAMIC_BATCHING_KEYS = new Set(['maxQueueDelayMicroseconds', 'preferredBatchSizes', 'maxQueueSize', 'defaultTimeoutMicroseconds']);

/** Triton's rules: a batching model has a max batch size; preferred sizes lie within it. Unknown keys refused (a typo would silently batch differently). */
function checkDynamicBatching(settings: unknown, maxBatchSize: number, fail: (what: string) => never): void {
  if (!isPlainObject(settings)) fail('"dynamicBatching" must be an object {maxQueueDelayMicroseconds, preferredBatchSizes?, maxQueueSize?, defaultTimeoutMicroseconds?}');
  const unknownKey = Object.keys(settings).find((key) => !DYNAMIC_BATCHING_KEYS.has(key));
  if (unknownKey !== undefined) fail(`"dynamicBatching" has unknown key "${unknownKey}"; known: ${[...DYNAMIC_BATCHING_KEYS].join(', ')}`);
  const { maxQueueDelayMicroseconds, preferredBatchSizes, maxQueueSize, defaultTimeoutMicroseconds } = settings as unknown as DynamicBatchingSettings;
  if (maxBatchSize < 1) fail('"dynamicBatching" needs "maxBatchSize" of 1 or more (0 means the model has no batch dim)');
  if (!Number.isSafeInteger(maxQueueDelayMicroseconds) || maxQueueDelayMicroseconds < 0) {
    fail(`"dynamicBatching.maxQueueDelayMicroseconds" must be a non-negative integer, got ${JSON.stringify(maxQueueDelayMicroseconds)}`);
  }
  for (const [key, value] of [['maxQueueSize', maxQueueSize], ['defaultTimeoutMicroseconds', defaultTimeoutMicroseconds]] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) fail(`"dynamicBatching.${key}" must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  if (preferredBatchSizes !== undefined) {
    if (!Array.isArray(preferredBatchSizes) || !preferredBatchSizes.every((size) => Number.isSafeInteger(size) && size >= 1 && size <= maxBatchSize)) {
      fail(`"dynamicBatching.preferredBatchSizes" must be an array of integers from 1 to maxBatchSize (${maxBatchSize}), got ${JSON.stringify(preferredBatchSizes)}`);
    }
    if (new Set(preferredBatchSizes).size !== preferredBatchSizes.length) fail(`"dynamicBatching.preferredBatchSizes" lists a size twice: ${JSON.stringify(preferredBatchSizes)}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
