'use strict';
// onnxruntime-node's native addon creates output arrays in Node's own realm, while jest runs
// each test file in a vm context with its own Float32Array etc.; onnxruntime-common's
// `data instanceof Float32Array` check then fails ("A float32 tensor's data must be type of
// function Float32Array()"). This environment gives the test context the outer realm's
// typed-array and ArrayBuffer constructors, so tensors cross the boundary unchanged.
const { TestEnvironment } = require('jest-environment-node');

const SHARED_GLOBALS = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class SharedRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED_GLOBALS) this.global[name] = globalThis[name];
  }
}

module.exports = SharedRealmEnvironment;
