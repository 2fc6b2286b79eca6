import { VoiceActivityDetector, SILERO_STATE_SIZE, type SileroStep } from '../../../lib/streaming/voice-activity-detector';
import { mulberry32 } from '../../../kernels/seeded-random/seeded-random';

/**
 * The gate's policy against a stand-in model whose cell state (second half of the state) gains 1
 * per call, like Silero's integrating unit on noise, and whose probability is 0.9 on loud windows:
 * what the gated detector hands the model is compared, window by window, with the ungated run.
 */
const HALF = SILERO_STATE_SIZE / 2;

function recordingStep(calls: Map<string, number>): SileroStep {
  return async (window, state) => {
    calls.set(Buffer.from(window.buffer, window.byteOffset, window.byteLength).toString('base64'), state[HALF]!);
    let energy = 0;
    for (const v of window) energy += v * v;
    const next = state.slice();
    for (let k = HALF; k < SILERO_STATE_SIZE; k++) next[k] = next[k]! + 1;
    return { probability: energy / window.length > 1e-3 ? 0.9 : 0, state: next };
  };
}

/** Noise at -50 dBFS with two 0.6 s loud stretches (at 1 s and 5 s), 16 kHz. */
function audio(): Float32Array {
  const random = mulberry32(3);
  const x = Float32Array.from({ length: 8 * 16000 }, () => (random() * 2 - 1) * 0.00316 * Math.sqrt(3));
  for (const at of [1, 5]) for (let i = at * 16000; i < (at + 0.6) * 16000; i++) x[i] = x[i]! + 0.3 * Math.sin(i * 0.2);
  return x;
}

async function runDetector(options: ConstructorParameters<typeof VoiceActivityDetector>[1]) {
  const calls = new Map<string, number>();
  const detector = new VoiceActivityDetector(recordingStep(calls), { gateOptions: { riseDbPerSecond: 300 }, ...options });
  const events = [...(await detector.push(audio())), ...(await detector.finish())];
  return { calls, events, counters: detector.counters };
}

describe('VoiceActivityDetector gate policy', () => {
  it('hands the model, at every call, the cell state the ungated run had there (learnt noise rate, weight 1)', async () => {
    const ungated = await runDetector({ gate: false });
    const gated = await runDetector({ noiseRateWeight: 1 });
    expect(gated.counters.skippedFrames).toBeGreaterThan(100);
    expect(gated.events).toEqual(ungated.events);
    for (const [window, c] of gated.calls) expect(c).toBe(ungated.calls.get(window));
  });

  it('without the state advance the model sees a cell state behind the ungated one after a skipped stretch', async () => {
    const ungated = await runDetector({ gate: false });
    const gated = await runDetector({ noiseRateWeight: 0 });
    const behind = [...gated.calls].filter(([window, c]) => c < ungated.calls.get(window)!);
    expect(behind.length).toBeGreaterThan(0);
  });

  it('runs the hang-over frames after a segment and the preroll windows before the reopening frame', async () => {
    const off = await runDetector({ hangoverFrames: 0, prerollFrames: 0 });
    const on = await runDetector({ hangoverFrames: 8, prerollFrames: 4 });
    // Three quiet stretches, each after frames that ran (the floor settling at the start, then each
    // segment): 8 hang-over frames each; two reopenings (before each loud stretch): 4 windows each.
    expect(on.counters.modelCalls - off.counters.modelCalls).toBe(3 * 8 + 2 * 4);
    expect(on.counters.frames).toBe(off.counters.frames);
  });
});
