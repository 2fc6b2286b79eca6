'use strict';
// Runs models on onnxruntime-web in a process of its own, from a copy of the runtime layer
// outside the repository, so nothing can resolve from the repo's node_modules.
// argv[2]: a job JSON file. Writes one JSON line to stdout.
const { readFileSync } = require('node:fs');
const { dirname } = require('node:path');
const { pathToFileURL } = require('node:url');

function toTensor(ort, tensor) {
  const data = tensor.type === 'int64' ? BigInt64Array.from(tensor.data, (v) => BigInt(v)) : Float32Array.from(tensor.data);
  return new ort.Tensor(tensor.type, data, tensor.dims);
}

async function main() {
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  let ort;
  let resolved;
  if (job.esmEntry) {
    const mod = await import(pathToFileURL(job.esmEntry).href);
    ort = mod.InferenceSession ? mod : mod.default;
    resolved = job.esmEntry;
  } else {
    ort = require('onnxruntime-web');
    resolved = require.resolve('onnxruntime-web');
  }
  const commonResolved = require.resolve('onnxruntime-common', { paths: [dirname(resolved)] });
  ort.env.wasm.wasmPaths = job.wasmPaths;
  ort.env.wasm.numThreads = job.numThreads;
  const results = {};
  for (const model of job.models) {
    const session = await ort.InferenceSession.create(readFileSync(model.path));
    const feeds = {};
    for (const [name, tensor] of Object.entries(model.feeds)) feeds[name] = toTensor(ort, tensor);
    const fetched = await session.run(feeds);
    const outputs = {};
    for (const [name, tensor] of Object.entries(fetched)) {
      outputs[name] = { type: tensor.type, dims: Array.from(tensor.dims), data: Array.from(tensor.data, Number) };
    }
    results[model.name] = { inputNames: session.inputNames, outputNames: session.outputNames, outputs };
    await session.release();
  }
  process.stdout.write(`${JSON.stringify({ resolved, commonResolved, version: ort.env.versions?.web, results })}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
