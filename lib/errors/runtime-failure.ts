import { InvalidRequestError } from './hotpath-error';

/** Longest runtime reason quoted to the caller; onnxruntime's messages stay far below it. */
const MAX_REASON_CHARS = 600;

/** onnxruntime-web wraps every C API failure: `failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: ...`. */
const ORT_WEB_PREFIX = /^failed to call Ort\w+\(\)\. ERROR_CODE: \d+, ERROR_MESSAGE: /;
/** One level of onnxruntime's node-failure chain (an `If` or `Loop` node nests its body's failure). */
const NODE_FAILURE = /^Non-zero status code returned while running (\w+) node\. Name:'[^']*' Status Message: /;
/**
 * ORT_ENFORCE / ORT_THROW put the source location and the C++ function first:
 * `/onnxruntime_src/onnxruntime/core/.../element_wise_ops.h:563 void onnxruntime::BroadcastIterator::Init(ptrdiff_t, ptrdiff_t) axis == 1 ...`.
 */
const SOURCE_LOCATION = /(?<![\w.])(?:[A-Za-z]:)?[\w.@+\-/\\]*\.(?:cc|cpp|cxx|c|h|hpp|cu|cuh|ts|js|mjs|cjs|wasm)(?::\d+)+\s*(?:(?:[\w:<>,*&~]+\s+)*[\w:<>~]+\([^()]*\)(?:\s+const)?\s+)?/g;
/** Absolute paths left anywhere else (`/opt/...`, `/work/...`, `file:///...`, `C:\...`). */
const ABSOLUTE_PATH = /(?<![\w.])(?:file:\/\/)?(?:\/[\w.@+\-]+){2,}\/?|(?<![\w.])[A-Za-z]:\\[^\s'"]+/g;
const WASM_FRAME = /wasm:\/\/\S+/g;
/** onnxruntime's advice addresses the model's author, not the caller. */
const ORT_BOILERPLATE = /\s*Please fix either the inputs\/outputs or the model\.?/g;
const EMSCRIPTEN_ABORT = /^Aborted\((.*?)\)\.?(?: Build with -sASSERTIONS for more info\.)?$/;

/**
 * An input that passed validation and still failed inside a healthy runtime (its session passed
 * warm-up) is the input's fault: a 400 carrying the runtime's reason, e.g. onnxruntime's
 * `Pad reflect requires axis length >= 2`. The reason is cleaned of what only the server should
 * see: onnxruntime-web's C API wrapper, the chain of enclosing `If` nodes (the innermost
 * operator is kept), source file names and line numbers, C++ function signatures, absolute
 * paths and WASM stack frames. The original error stays as `cause` for the log.
 *
 * @example
 * // onnxruntime-web, text-detector fed a 33x33 image:
 * runtimeFailureToRequestError(new Error("failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: /mnt/.../element_wise_ops.h:563 void onnxruntime::BroadcastIterator::Init(ptrdiff_t, ptrdiff_t) axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4\n"), 'text-detector@1').message
 * // "model 'text-detector@1' cannot run this input: axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4"
 */
export function runtimeFailureToRequestError(error: unknown, modelLabel: string): InvalidRequestError {
  if (error instanceof InvalidRequestError) return error;
  return new InvalidRequestError(`model '${modelLabel}' cannot run this input: ${runtimeReason(error)}`, error);
}

/** A runtime's failure as text a caller may read (no source locations, paths or stack frames). */
export function runtimeReason(error: unknown): string {
  // Read by shape, not instanceof: onnxruntime-node's addon (and any other realm) throws Errors that are not this realm's.
  const raw = typeof error === 'string' ? error : stringField(error, 'message') ?? '';
  // Some errors carry their stack in the message; frames are never the caller's business.
  let text = raw.split('\n').filter((line) => !/^\s*at\s/.test(line)).join(' ').replace(/\s+/g, ' ').trim();
  text = text.replace(ORT_WEB_PREFIX, '');
  let operator: string | undefined;
  for (let match = NODE_FAILURE.exec(text); match; match = NODE_FAILURE.exec(text)) {
    operator = match[1];
    text = text.slice(match[0].length);
  }
  text = text.replace(SOURCE_LOCATION, '').replace(WASM_FRAME, '').replace(ABSOLUTE_PATH, '<path>').replace(ORT_BOILERPLATE, '').replace(/\s+/g, ' ').trim();
  const aborted = EMSCRIPTEN_ABORT.exec(text);
  if (aborted) text = `the runtime aborted${aborted[1] ? ` (${aborted[1]})` : ''}`;
  // WebAssembly.RuntimeError (a trap: `unreachable`, `memory access out of bounds`) is named so in every realm.
  else if (stringField(error, 'name') === 'RuntimeError') text = `the runtime trapped: ${text}`;
  if (text.length === 0) text = 'the runtime gave no reason';
  if (text.length > MAX_REASON_CHARS) text = `${text.slice(0, MAX_REASON_CHARS)}…`;
  return operator ? `${operator} node: ${text}` : text;
}

function stringField(value: unknown, key: 'message' | 'name'): string | undefined {
  const field = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof field === 'string' ? field : undefined;
}
