/**
 * The guarantee: for the same audio, the same events bit for bit, whatever the chunking (one
 * chunk, 1-byte chunks, random cuts through the WAV header, samples and model frames), and across
 * a snapshot taken mid-stream and restored from JSON. Real silero-vad session (onnxruntime-web).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { resample } from '../../../kernels/audio/audio-kernels';
import type { ServingRuntime } from '../../../lib/serving/serving-runtime';
import { AudioStreamDetector, type AudioStreamInput } from '../../../lib/streaming/audio-stream-detector';
import { createStreamDetector, SILERO_MODEL } from '../../../lib/streaming/detection-stream';
import { sileroStep } from '../../../lib/streaming/voice-activity-detector';
import type { AudioFormat } from '../../../lib/streaming/wav-stream-parser';
import { cutAt, eventsOf, pcmBytes, sileroRuntime, speechLike, SPEECH_FIXTURE, wavBytes } from './streaming-fixtures';

let runtime: ServingRuntime;
beforeAll(async () => {
  runtime = await sileroRuntime();
});
afterAll(async () => {
  await runtime.registry.dispose();
});

const RATES = [8000, 16000, 22050, 44100, 48000] as const;
const SPEECH_WAV = readFileSync(SPEECH_FIXTURE);
const SPEECH_SAMPLES = Float32Array.from(new Int16Array(SPEECH_WAV.buffer.slice(SPEECH_WAV.byteOffset + 44, SPEECH_WAV.byteOffset + SPEECH_WAV.byteLength)), (v) => v / 32768);

interface Case {
  readonly format: AudioFormat;
  readonly container: 'wav' | 'raw';
  readonly bytes: Uint8Array;
  /** off; the default gate; or one whose floor rises 100x faster, so short clips skip frames too. */
  readonly gate: 'off' | 'default' | 'eager';
}

const caseArbitrary = fc
  .record({
    rate: fc.constantFrom(...RATES),
    channels: fc.constantFrom(1, 2),
    encoding: fc.constantFrom('pcm16' as const, 'float32' as const),
    container: fc.constantFrom('wav' as const, 'raw' as const),
    from: fc.double({ min: 0, max: 5, noNaN: true }),
    seconds: fc.double({ min: 0.5, max: 2.5, noNaN: true }),
    gate: fc.constantFrom('off' as const, 'default' as const, 'eager' as const, 'eager' as const),
  })
  .map(({ rate, channels, encoding, container, from, seconds, gate }): Case => {
    const format: AudioFormat = { encoding, sampleRate: rate, channels };
    // An excerpt of the espeak-ng clip (speech, pauses, noise), at the case's rate.
    const excerpt = SPEECH_SAMPLES.subarray(Math.round(from * 22050), Math.round((from + seconds) * 22050));
    const samples = rate === 22050 ? excerpt.slice() : resample(excerpt, 22050, rate);
    return { format, container, bytes: container === 'wav' ? wavBytes(samples, format) : pcmBytes(samples, format), gate };
  });

function optionsFor(c: Case) {
  return { gate: c.gate !== 'off', ...(c.gate === 'eager' ? { gateOptions: { riseDbPerSecond: 300 } } : {}) };
}

function detectorFor(c: Case): AudioStreamDetector {
  const input: AudioStreamInput = c.container === 'wav' ? { container: 'wav' } : { container: 'raw', format: c.format };
  const { session } = runtime.registry.findReady(SILERO_MODEL).state;
  return new AudioStreamDetector(input, (rate) => sileroStep(session, rate), optionsFor(c));
}

describe('AudioStreamDetector over silero-vad', () => {
  it('gives the same events for random chunkings as for one chunk (any rate, channels, encoding, container, gated or not)', async () => {
    let withEvents = 0;
    let withSkips = 0;
    await fc.assert(
      // Random cut points, or a fixed chunk size (from a few samples to several frames).
      fc.asyncProperty(caseArbitrary, fc.oneof(fc.array(fc.nat(), { maxLength: 40 }), fc.integer({ min: 1, max: 5000 })), async (c, cutting) => {
        const one = detectorFor(c);
        const whole = await eventsOf(one, [c.bytes]);
        if (one.counters!.skippedFrames > 0) withSkips++;
        const offsets = typeof cutting === 'number'
          ? Array.from({ length: Math.ceil(c.bytes.byteLength / cutting) }, (_, i) => i * cutting)
          : cutting.map((n) => n % (c.bytes.byteLength + 1));
        const other = detectorFor(c);
        const chunked = await eventsOf(other, cutAt(c.bytes, offsets));
        expect(chunked).toEqual(whole);
        // The same frames skipped and run, not only the same decisions.
        expect(other.counters).toEqual(one.counters);
        if (whole.length > 0) withEvents++;
      }),
      { numRuns: 16, seed: 20261202 },
    );
    // The gate's path is exercised too: some runs skipped frames.
    expect(withSkips).toBeGreaterThanOrEqual(3);
    // Not a property of empty event lists: most excerpts hold a segment.
    expect(withEvents).toBeGreaterThanOrEqual(6);
  });

  it('gives the same events for chunks that split the header, every sample and every frame (small sizes) and across a JSON snapshot', async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, fc.integer({ min: 1, max: 61 }), fc.double({ min: 0, max: 1, noNaN: true }), async (c, size, where) => {
        const one = detectorFor(c);
        const whole = await eventsOf(one, [c.bytes]);
        const split = Math.floor(where * c.bytes.byteLength);
        const first = detectorFor(c);
        const events = [];
        for (let at = 0; at < split; at += size) events.push(...(await first.push(c.bytes.subarray(at, Math.min(split, at + size)))));
        // The stream moves to another invocation: only JSON survives.
        const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
        const { session } = runtime.registry.findReady(SILERO_MODEL).state;
        const second = new AudioStreamDetector(snapshot.input, (rate) => sileroStep(session, rate), optionsFor(c), snapshot);
        events.push(...(await eventsOf(second, cutAt(c.bytes, [split, split + 4099]).slice(1))));
        expect(events).toEqual(whole);
        expect(second.counters).toEqual(one.counters);
      }),
      { numRuns: 6, seed: 7 },
    );
  });

  it('gives the same events for 1-byte chunks of a 44.1 kHz stereo WAV', async () => {
    const format: AudioFormat = { encoding: 'pcm16', sampleRate: 44100, channels: 2 };
    const bytes = wavBytes(speechLike(0.5, 44100, 5), format);
    const whole = await eventsOf(createStreamDetector(runtime, { container: 'wav' }, false), [bytes]);
    const bytewise = await eventsOf(createStreamDetector(runtime, { container: 'wav' }, false), Array.from({ length: bytes.byteLength }, (_, i) => bytes.subarray(i, i + 1)));
    expect(bytewise).toEqual(whole);
  });
});

describe('voice detector on a pinned clip (espeak-ng: two utterances, 0.60-3.44 s and 4.64-7.27 s, 22.05 kHz)', () => {
  const wav = SPEECH_WAV;

  it('finds the two utterances as two segments, at known samples, gated and ungated', async () => {
    for (const gate of [true, false]) {
      const events = await eventsOf(createStreamDetector(runtime, { container: 'wav' }, gate), [wav]);
      expect(events.map((e) => [e.event, e.segment, e.sample])).toEqual([
        ['start', 0, 9248], ['end', 0, 56800], ['start', 1, 75808], ['end', 1, 118752],
      ]);
    }
  });

  it('agrees with a plain whole-clip VADIterator loop (kernel resample, one session.run per 512 samples, 250 ms minimum)', async () => {
    const audio = resample(SPEECH_SAMPLES, 22050, 16000);
    const expected = await referenceSegments(audio);
    const events = await eventsOf(createStreamDetector(runtime, { container: 'wav' }, false), [wav]);
    const segments = events.filter((e) => e.event === 'start').map((s, i) => [s.sample, events.filter((e) => e.event === 'end')[i]!.sample]);
    expect(segments).toEqual(expected);
  });

  it('calls a 3 s 440 Hz tone no speech (the energy detector calls it speech)', async () => {
    const tone = Float32Array.from({ length: 48000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000));
    const format: AudioFormat = { encoding: 'float32', sampleRate: 16000, channels: 1 };
    for (const gate of [true, false]) {
      const detector = createStreamDetector(runtime, { container: 'raw', format }, gate);
      expect(await eventsOf(detector, [pcmBytes(tone, format)])).toEqual([]);
      expect(detector.counters).toMatchObject({ frames: 94, segments: 0 });
    }
  });
});

/** silero-vad's VADIterator, written out plainly over a whole 16 kHz clip, then segments under 250 ms dropped. */
async function referenceSegments(audio: Float32Array): Promise<number[][]> {
  const { session } = runtime.registry.findReady(SILERO_MODEL).state;
  const window = 512;
  const pad = 480;
  let state = new Float32Array(256);
  let context = new Float32Array(64);
  let triggered = false;
  let tempEnd = 0;
  let start = 0;
  const segments: number[][] = [];
  let current = 0;
  for (let f = 0; f * window < audio.length; f++) {
    const frame = new Float32Array(window);
    frame.set(audio.subarray(f * window, (f + 1) * window));
    const input = new Float32Array(576);
    input.set(context);
    input.set(frame, 64);
    const out = await session.run([
      { name: 'input', datatype: 'FP32', shape: [1, 576], data: input },
      { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: state },
      { name: 'sr', datatype: 'INT64', shape: [], data: BigInt64Array.of(16000n) },
    ]);
    const p = (out.find((t) => t.name === 'output')!.data as Float32Array)[0]!;
    state = Float32Array.from(out.find((t) => t.name === 'stateN')!.data as Float32Array);
    context = frame.slice(window - 64);
    current += window;
    if (p >= 0.5 && tempEnd) tempEnd = 0;
    if (p >= 0.5 && !triggered) {
      triggered = true;
      start = Math.max(0, current - pad - window);
    } else if (p < 0.35 && triggered) {
      if (!tempEnd) tempEnd = current;
      if (current - tempEnd >= 1600) {
        segments.push([start, tempEnd + pad - window]);
        triggered = false;
        tempEnd = 0;
      }
    }
  }
  if (triggered) segments.push([start, tempEnd ? Math.min(audio.length, tempEnd + pad - window) : audio.length]);
  return segments.filter(([s, e]) => e! - s! >= 4000);
}
