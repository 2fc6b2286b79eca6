/**
 * Where answering compressed starts to pay: for answer bodies of growing size (JSON answers
 * of iris-classifier and mlp-medium, and binary FP32 outputs), the bytes gzip saves and the
 * time it takes at levels 1 and 6. `npx tsx bench/http/compression-threshold.ts`.
 * The threshold in lib/http/content-encoding.ts (COMPRESS_ABOVE_BYTES) comes from this.
 */
import { cpus } from 'node:os';
import { gzipSync } from 'node:zlib';
import { encodeInferResponse } from '../../lib/protocol/infer-response-encoder';
import { mulberry32 } from '../../kernels/seeded-random/seeded-random';

function medianMicros(work: () => void, rounds = 200): number {
  for (let i = 0; i < 20; i++) work();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    work();
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const random = mulberry32(7);
function answer(rows: number, cols: number, binary: boolean): Buffer {
  const data = new Float32Array(rows * cols).map(() => random());
  return encodeInferResponse({
    modelName: 'm', modelVersion: '1', parameters: { route: 'local-wasm' },
    outputs: [{ name: 'output', datatype: 'FP32', shape: [rows, cols], data }],
    binaryOutputs: new Set(binary ? ['output'] : []),
  }).body;
}

console.log(`${cpus()[0]?.model}, node ${process.version}`);
console.log('body                          bytes   gz1 bytes  gz1 µs   gz6 bytes  gz6 µs');
for (const [label, body] of [
  ['json 1x3 (iris b1)', answer(1, 3, false)],
  ['json 4x3', answer(4, 3, false)],
  ['json 16x10', answer(16, 10, false)],
  ['json 32x10 (mlp-medium b32)', answer(32, 10, false)],
  ['json 64x64', answer(64, 64, false)],
  ['binary 1x10', answer(1, 10, true)],
  ['binary 32x10', answer(32, 10, true)],
  ['binary 256x1000', answer(256, 1000, true)],
] as const) {
  const g1 = gzipSync(body, { level: 1 });
  const g6 = gzipSync(body, { level: 6 });
  const t1 = medianMicros(() => gzipSync(body, { level: 1 }));
  const t6 = medianMicros(() => gzipSync(body, { level: 6 }));
  console.log(`${label.padEnd(28)} ${String(body.byteLength).padStart(7)} ${String(g1.byteLength).padStart(10)} ${t1.toFixed(1).padStart(7)} ${String(g6.byteLength).padStart(10)} ${t6.toFixed(1).padStart(7)}`);
}
