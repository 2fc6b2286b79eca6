import { SilenceDetector, resolveSilenceDetectorOptions } from '../../../kernels/audio/silence-detector';
import { pcm16ToFloat32 } from '../../../kernels/audio/audio-kernels';
import { frameGeometry, type SilenceDetectorOptions } from '../../../kernels/audio/speech-state-machine';
import { InvalidRequestError, ModelVerificationError } from '../../errors/hotpath-error';
import type { HostTensor } from '../../protocol/tensor';
import type { TensorSignature } from '../../protocol/tensor';
import type { KernelModelKind } from '../kernel-backend';

/**
 * Model parameters as the JSON artifact holds them, e.g.
 * `{ "kind": "silence-detector", "input": "audio", "sampleRateInput": false, "options": { "hangoverMs": 250 } }`.
 * The serving path requires every declared input, so the artifact picks the signature: `input` is
 * `audio` (FP32 [-1]) or `pcm16` (INT16 [-1]); `sampleRateInput` adds `sample_rate` (INT32 [1]),
 * otherwise the rate is `options.sampleRate` (16000 by default).
 */
export interface SilenceDetectorModelParameters {
  readonly kind: 'silence-detector';
  readonly input?: 'audio' | 'pcm16';
  readonly sampleRateInput?: boolean;
  readonly options?: SilenceDetectorOptions;
}

/** A kernel-served model: fixed signatures and a synchronous run over host tensors. */
export interface SilenceDetectorModel {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  run(inputs: readonly HostTensor[]): HostTensor[];
  dispose(): void;
}

const AUDIO_INPUT: TensorSignature = { name: 'audio', datatype: 'FP32', shape: [-1] };
const PCM16_INPUT: TensorSignature = { name: 'pcm16', datatype: 'INT16', shape: [-1] };
const SAMPLE_RATE_INPUT: TensorSignature = { name: 'sample_rate', datatype: 'INT32', shape: [1] };

/** The input signatures an artifact's parameters declare. */
export function silenceDetectorInputs(parameters: SilenceDetectorModelParameters): TensorSignature[] {
  return [parameters.input === 'pcm16' ? PCM16_INPUT : AUDIO_INPUT, ...(parameters.sampleRateInput ? [SAMPLE_RATE_INPUT] : [])];
}

/** `segments`: [start, end) in seconds per speech segment; `frame_speech`: 1 for frames inside a segment (frame f starts at f * hop). */
export const SILENCE_DETECTOR_OUTPUTS: readonly TensorSignature[] = [
  { name: 'segments', datatype: 'FP32', shape: [-1, 2] },
  { name: 'frame_speech', datatype: 'BOOL', shape: [-1] },
];

const MIN_RATE = 8000;
const MAX_RATE = 48000;

/** Parses the JSON artifact's bytes (or an already parsed object) into checked parameters. */
export function parseSilenceDetectorParameters(artifact: Uint8Array | unknown): SilenceDetectorModelParameters {
  const value: unknown = artifact instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(artifact)) : artifact;
  if (typeof value !== 'object' || value === null || (value as { kind?: unknown }).kind !== 'silence-detector') {
    throw new InvalidRequestError(`silence detector artifact: expected a JSON object with "kind": "silence-detector"`);
  }
  const { input = 'audio', sampleRateInput = false, options = {} } = value as Record<string, unknown>;
  if (input !== 'audio' && input !== 'pcm16') throw new InvalidRequestError(`silence detector artifact: 'input' must be "audio" or "pcm16", got ${JSON.stringify(input)}`);
  if (typeof sampleRateInput !== 'boolean') throw new InvalidRequestError(`silence detector artifact: 'sampleRateInput' must be a boolean`);
  if (typeof options !== 'object' || options === null) throw new InvalidRequestError(`silence detector artifact: 'options' must be an object`);
  resolveSilenceDetectorOptions(options as SilenceDetectorOptions);
  return { kind: 'silence-detector', input, sampleRateInput, options: options as SilenceDetectorOptions };
}

function samplesFrom(inputs: readonly HostTensor[]): Float32Array {
  const audio = inputs.find((t) => t.name === 'audio');
  const pcm = inputs.find((t) => t.name === 'pcm16');
  if ((audio ? 1 : 0) + (pcm ? 1 : 0) !== 1) {
    throw new InvalidRequestError(`silence detector: send exactly one of input 'audio' (FP32 [-1]) or 'pcm16' (INT16 [-1]), got ${audio && pcm ? 'both' : 'neither'}`);
  }
  const tensor = (audio ?? pcm)!;
  if (tensor.shape.length !== 1) throw new InvalidRequestError(`input '${tensor.name}': expected shape [-1] (mono samples), got [${tensor.shape.join(',')}]`);
  if (audio) {
    if (!(audio.data instanceof Float32Array)) throw new InvalidRequestError(`input 'audio': expected datatype FP32, got ${audio.datatype}`);
    return audio.data;
  }
  if (!(pcm!.data instanceof Int16Array)) throw new InvalidRequestError(`input 'pcm16': expected datatype INT16, got ${pcm!.datatype}`);
  return pcm16ToFloat32(pcm!.data);
}

function sampleRateFrom(inputs: readonly HostTensor[], fallback: number): number {
  const tensor = inputs.find((t) => t.name === 'sample_rate');
  if (!tensor) return fallback;
  if (!(tensor.data instanceof Int32Array) || tensor.data.length !== 1) {
    throw new InvalidRequestError(`input 'sample_rate': expected INT32 [1], got ${tensor.datatype} [${tensor.shape.join(',')}]`);
  }
  const rate = tensor.data[0]!;
  if (rate < MIN_RATE || rate > MAX_RATE) throw new InvalidRequestError(`input 'sample_rate': expected ${MIN_RATE}..${MAX_RATE} Hz, got ${rate}`);
  return rate;
}

/**
 * Silence detection served as a model (platform `hotpath_kernel`): frame energy and zero-crossing
 * rate in WASM-SIMD, adaptive noise floor, hysteresis and hangover in TypeScript.
 * @example
 * const model = createSilenceDetectorModel(parseSilenceDetectorParameters(artifactBytes));
 * const [segments, frameSpeech] = model.run([{ name: 'audio', datatype: 'FP32', shape: [n], data: samples }]);
 */
export function createSilenceDetectorModel(parameters: SilenceDetectorModelParameters): SilenceDetectorModel {
  const base = resolveSilenceDetectorOptions(parameters.options);
  return {
    inputs: silenceDetectorInputs(parameters),
    outputs: SILENCE_DETECTOR_OUTPUTS,
    dispose() {},
    run(inputs: readonly HostTensor[]): HostTensor[] {
      const samples = samplesFrom(inputs);
      const sampleRate = sampleRateFrom(inputs, base.sampleRate);
      const detector = new SilenceDetector({ ...base, sampleRate });
      const found = [...detector.push(samples), ...detector.finish()];
      const segments = new Float32Array(found.length * 2);
      found.forEach((s, i) => {
        segments[2 * i] = s.startSample / sampleRate;
        segments[2 * i + 1] = s.endSample / sampleRate;
      });
      const frameSpeech = new Uint8Array(detector.frames);
      for (const s of found) frameSpeech.fill(1, s.startFrame, s.endFrame + 1);
      return [
        { name: 'segments', datatype: 'FP32', shape: [found.length, 2], data: segments },
        { name: 'frame_speech', datatype: 'BOOL', shape: [frameSpeech.length], data: frameSpeech },
      ];
    },
  };
}

/** Frame length and hop in samples at a rate, for callers that map `frame_speech` back to time. */
export function silenceDetectorFrameGeometry(parameters: SilenceDetectorModelParameters, sampleRate: number): { frameLength: number; hop: number } {
  return frameGeometry(resolveSilenceDetectorOptions({ ...parameters.options, sampleRate }));
}

/** The kernel backend's entry for silence detection: artifacts named `*.silence-detector.json`. */
export const silenceDetectorKind: KernelModelKind = {
  kind: 'silence-detector',
  fileSuffix: '.silence-detector.json',
  load(bytes, model) {
    let parameters: SilenceDetectorModelParameters;
    try {
      parameters = parseSilenceDetectorParameters(bytes);
    } catch (cause) {
      throw new ModelVerificationError(`model '${model.name}': ${(cause as Error).message}`, cause);
    }
    return createSilenceDetectorModel(parameters);
  },
};
