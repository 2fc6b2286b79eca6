import { join } from 'node:path';
import { loadServingConfig } from '../../../lib/config/serving-config';
import { NativeBackend } from '../../../lib/backends/native-backend';
import { WasmBackend } from '../../../lib/backends/wasm-backend';
import type { BackendSession } from '../../../lib/backends/inference-backend';
import { readModelManifest } from '../../../lib/models/model-manifest';
import type { ModelManifest } from '../../../lib/models/model-manifest-types';
import type { HostTensor } from '../../../lib/protocol/tensor';

const config = loadServingConfig(process.env, { wasmThreads: 1 });
// onnxruntime-node first: both runtimes share onnxruntime-common's backend registry.
const native = new NativeBackend({ intraOpThreads: 1 });
const wasm = new WasmBackend({ ortWebDir: join(process.cwd(), 'layers/onnxruntime-web/build/nodejs/node_modules/onnxruntime-web'), numThreads: 1 });
let manifest: ModelManifest;

async function loadOn(backend: NativeBackend | WasmBackend, name: string): Promise<BackendSession> {
  const model = manifest.models.find((m) => m.name === name)!;
  // As the registry loads it: a pre-optimised graph (manifest `optimized`) is served without re-optimising on WASM.
  return backend.load({ name, version: model.version, path: join(config.modelsDir, model.file), inputs: model.inputs, outputs: model.outputs, optimized: model.optimized });
}

beforeAll(async () => {
  await native.init();
  await wasm.init();
  manifest = await readModelManifest(config.modelsDir);
});

describe('wasm and native backends', () => {
  it('classify known iris samples correctly on both backends', async () => {
    // Prepare: one sample per species from the iris data set (rows 1, 51 and 101).
    const samples = [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]];
    const input: HostTensor = { name: 'input', datatype: 'FP32', shape: [3, 4], data: Float32Array.from(samples.flat()) };
    for (const backend of [native, wasm]) {
      const session = await loadOn(backend, 'iris-classifier');
      // Act
      const [probabilities, label] = await session.run([input], ['probabilities', 'label']);
      // Assess
      expect(Array.from(label!.data as BigInt64Array)).toEqual([0n, 1n, 2n]);
      const p = probabilities!.data as Float32Array;
      for (let row = 0; row < 3; row++) expect(p[row * 3]! + p[row * 3 + 1]! + p[row * 3 + 2]!).toBeCloseTo(1, 5);
      await session.dispose();
    }
  });

  it('give Silero VAD probabilities within 1e-5 of each other over a stream of frames', async () => {
    // Prepare: 40 frames of 16 kHz audio: silence, then a voiced 180 Hz tone with harmonics and noise, then silence.
    const frames = 40;
    const audio = new Float32Array(frames * 512);
    let seed = 7;
    const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.01;
    for (let i = 0; i < audio.length; i++) {
      const t = i / 16000;
      const voiced = i > 10 * 512 && i < 30 * 512 ? 0.3 * Math.sin(2 * Math.PI * 180 * t) + 0.15 * Math.sin(2 * Math.PI * 360 * t) + 0.08 * Math.sin(2 * Math.PI * 540 * t) : 0;
      audio[i] = voiced + noise();
    }
    const run = async (session: BackendSession) => {
      let state = new Float32Array(2 * 128);
      const context = new Float32Array(64);
      const probabilities: number[] = [];
      for (let f = 0; f < frames; f++) {
        const chunk = new Float32Array(576);
        chunk.set(context, 0);
        chunk.set(audio.subarray(f * 512, (f + 1) * 512), 64);
        context.set(chunk.subarray(512));
        const [output, stateN] = await session.run([
          { name: 'input', datatype: 'FP32', shape: [1, 576], data: chunk },
          { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: state },
          { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
        ], ['output', 'stateN']);
        probabilities.push((output!.data as Float32Array)[0]!);
        state = Float32Array.from(stateN!.data as Float32Array);
      }
      return probabilities;
    };
    // Act
    const nativeSession = await loadOn(native, 'silero-vad');
    const wasmSession = await loadOn(wasm, 'silero-vad');
    const fromNative = await run(nativeSession);
    const fromWasm = await run(wasmSession);
    // Assess
    const maxDifference = Math.max(...fromNative.map((p, i) => Math.abs(p - fromWasm[i]!)));
    expect(maxDifference).toBeLessThan(1e-5);
    expect(fromNative.every((p) => p >= 0 && p <= 1)).toBe(true);
    await nativeSession.dispose();
    await wasmSession.dispose();
  });
});
