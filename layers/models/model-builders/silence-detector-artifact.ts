import type { ModelArtifactSpec } from '../model-artifact-spec';
import type { SilenceDetectorModelParameters } from '../../../lib/backends/kernel-models/silence-detector-model';
import { silenceDetectorInputs, SILENCE_DETECTOR_OUTPUTS } from '../../../lib/backends/kernel-models/silence-detector-model';

/** The served silence detector's parameters: FP32 16 kHz mono `audio` in, detector defaults. */
export const SILENCE_DETECTOR_PARAMETERS: SilenceDetectorModelParameters = { kind: 'silence-detector', input: 'audio', sampleRateInput: false, options: {} };

/**
 * Silence detection served by the kernel backend (`hotpath_kernel`, artifact `*.silence-detector.json`).
 * Add to MODEL_ARTIFACTS in default-models.ts to ship it in the models layer.
 */
export const silenceDetectorArtifact: ModelArtifactSpec = {
  name: 'silence-detector',
  version: '1',
  platform: 'hotpath_kernel',
  file: 'model.silence-detector.json',
  fingerprint: { sourceFiles: [__filename], params: SILENCE_DETECTOR_PARAMETERS },
  build: () => ({ bytes: new TextEncoder().encode(`${JSON.stringify(SILENCE_DETECTOR_PARAMETERS, null, 2)}\n`) }),
  manifest: {
    inputs: silenceDetectorInputs(SILENCE_DETECTOR_PARAMETERS),
    outputs: SILENCE_DETECTOR_OUTPUTS,
    maxBatchSize: 0,
    serveByDefault: true,
    description: 'Speech segments of 16 kHz mono audio: WASM-SIMD frame energy (dBFS) and zero-crossing rate, adaptive noise floor, hysteresis (12/6 dB), 250 ms hangover; segments [start, end) in seconds and per-frame (20 ms every 10 ms) speech flags',
    source: { origin: 'parameters written by layers/models/model-builders/silence-detector-artifact.ts', license: 'Apache-2.0 (this repository)' },
    finiteInputs: ['audio'],
  },
};
