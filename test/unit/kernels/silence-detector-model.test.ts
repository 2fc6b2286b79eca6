import { createSilenceDetectorModel, parseSilenceDetectorParameters } from '../../../lib/backends/kernel-models/silence-detector-model';
import { InvalidRequestError } from '../../../lib/errors/hotpath-error';
import { float32ToPcm16 } from '../../../kernels/audio/audio-kernels';
import { detectSpeechSegments } from '../../../kernels/audio/silence-detector';
import { syntheticSpeechLikeAudio } from '../../../kernels/audio/synthetic-speech-signal';
import type { HostTensor } from '../../../lib/protocol/tensor';

const artifact = new TextEncoder().encode(JSON.stringify({ kind: 'silence-detector', options: { hangoverMs: 250 } }));
const { samples } = syntheticSpeechLikeAudio({ seconds: 12, seed: 4 });

describe('silence detector model', () => {
  const model = createSilenceDetectorModel(parseSilenceDetectorParameters(artifact));

  it('answers segments in seconds and per-frame speech flags for FP32 audio', () => {
    const [segments, frameSpeech] = model.run([{ name: 'audio', datatype: 'FP32', shape: [samples.length], data: samples }]);
    const expected = detectSpeechSegments(samples);
    expect(segments!.shape).toEqual([expected.length, 2]);
    expect(Array.from(segments!.data as Float32Array)).toEqual(Array.from(Float32Array.from(expected.flatMap((s) => [s.startSample / 16000, s.endSample / 16000]))));
    expect(frameSpeech!.datatype).toBe('BOOL');
    expect(frameSpeech!.shape).toEqual([1 + Math.floor((samples.length - 320) / 160)]);
    const flags = frameSpeech!.data as Uint8Array;
    expect(flags[expected[0]!.startFrame]).toBe(1);
    expect(flags[expected[0]!.startFrame - 1]).toBe(0);
    expect(flags[expected[0]!.endFrame]).toBe(1);
  });

  it('declares the inputs its artifact picks (audio by default; pcm16 and sample_rate on request)', () => {
    expect(model.inputs.map((s) => s.name)).toEqual(['audio']);
    const pcmModel = createSilenceDetectorModel(parseSilenceDetectorParameters({ kind: 'silence-detector', input: 'pcm16', sampleRateInput: true }));
    expect(pcmModel.inputs).toEqual([
      { name: 'pcm16', datatype: 'INT16', shape: [-1] },
      { name: 'sample_rate', datatype: 'INT32', shape: [1] },
    ]);
  });

  it('gives the same segments for PCM16 input with an explicit sample rate', () => {
    const pcm = float32ToPcm16(samples);
    const pcmModel = createSilenceDetectorModel(parseSilenceDetectorParameters({ kind: 'silence-detector', input: 'pcm16', sampleRateInput: true }));
    const fromPcm = pcmModel.run([
      { name: 'pcm16', datatype: 'INT16', shape: [pcm.length], data: pcm },
      { name: 'sample_rate', datatype: 'INT32', shape: [1], data: Int32Array.of(16000) },
    ]);
    const fromFloat = model.run([{ name: 'audio', datatype: 'FP32', shape: [samples.length], data: samples }]);
    expect(fromPcm[0]!.shape).toEqual(fromFloat[0]!.shape);
  });

  it('refuses requests with a message naming the input to fix', () => {
    const audio: HostTensor = { name: 'audio', datatype: 'FP32', shape: [4], data: new Float32Array(4) };
    const pcm: HostTensor = { name: 'pcm16', datatype: 'INT16', shape: [4], data: new Int16Array(4) };
    expect(() => model.run([])).toThrow(InvalidRequestError);
    expect(() => model.run([audio, pcm])).toThrow(/exactly one of input 'audio'.*got both/);
    expect(() => model.run([{ ...audio, shape: [2, 2] }])).toThrow(/input 'audio': expected shape \[-1\]/);
    expect(() => model.run([audio, { name: 'sample_rate', datatype: 'INT32', shape: [1], data: Int32Array.of(100) }])).toThrow(/input 'sample_rate': expected 8000..48000 Hz, got 100/);
  });

  it('refuses an artifact that is not a silence detector or has bad options', () => {
    expect(() => parseSilenceDetectorParameters({ kind: 'kmeans' })).toThrow(/"kind": "silence-detector"/);
    expect(() => parseSilenceDetectorParameters({ kind: 'silence-detector', input: 'wav' })).toThrow(/'input' must be "audio" or "pcm16", got "wav"/);
    expect(() => parseSilenceDetectorParameters({ kind: 'silence-detector', options: { onsetDb: 1, offsetDb: 5 } })).toThrow(/'offsetDb'/);
  });
});
