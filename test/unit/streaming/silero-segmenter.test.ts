import { SileroSegmenter, type SegmentEvent } from '../../../lib/streaming/silero-segmenter';
import { NoiseFloorGate } from '../../../lib/streaming/noise-floor-gate';

/** Runs 512-sample frames of the given probabilities at 16 kHz; returns the events and the frame after which each left. */
function run(probabilities: number[], total = probabilities.length * 512): SegmentEvent[] {
  const segmenter = new SileroSegmenter(16000, 512);
  const out: SegmentEvent[] = [];
  probabilities.forEach((p, f) => segmenter.frame(p, (f + 1) * 512, out));
  segmenter.finish(total, out);
  return out;
}

const repeat = (p: number, n: number) => Array<number>(n).fill(p);

describe('SileroSegmenter (VADIterator semantics, 250 ms minimum)', () => {
  it('starts 30 ms before the first speech frame, ends 30 ms after the silence began, once 100 ms of it have passed', () => {
    const events = run([...repeat(0.1, 10), ...repeat(0.9, 12), ...repeat(0.1, 10)]);
    // Speech frames 10..21: the start is frame 10's end - 30 ms - one frame; silence from frame 22 (its end 11776),
    // decided at the first frame end at least 1600 samples later (frame 26's).
    expect(events).toEqual([
      { event: 'start', segment: 0, sample: 10 * 512 - 480, probability: 0.9, decidedAt: 16 * 512 },
      { event: 'end', segment: 0, sample: 23 * 512 + 480 - 512, probability: 0.1, decidedAt: 27 * 512 },
    ]);
  });

  it('announces a start only once the segment is sure to last 250 ms, and drops shorter ones', () => {
    // 6 speech frames (192 ms) + both pads: 252 ms, kept; 5 frames: 220 ms, dropped.
    expect(run([...repeat(0, 10), ...repeat(0.9, 6), ...repeat(0, 8)]).map((e) => [e.event, e.sample])).toEqual([['start', 4640], ['end', 8672]]);
    expect(run([...repeat(0, 10), ...repeat(0.9, 5), ...repeat(0, 8)])).toEqual([]);
  });

  it('keeps a segment through a dip above the exit threshold and a silence shorter than 100 ms', () => {
    const events = run([...repeat(0.9, 10), ...repeat(0.4, 5), ...repeat(0.9, 5), ...repeat(0.1, 3), ...repeat(0.9, 5), ...repeat(0.1, 6)]);
    expect(events.map((e) => e.event)).toEqual(['start', 'end']);
  });

  it('closes an open segment at the end of the stream (or where its silence began)', () => {
    expect(run([0, ...repeat(0.9, 20)], 21 * 512 - 100).at(-1)).toMatchObject({ event: 'end', sample: 21 * 512 - 100, probability: 0 });
    expect(run([0, ...repeat(0.9, 20), 0.1, 0.1]).at(-1)).toMatchObject({ event: 'end', sample: 22 * 512 + 480 - 512 });
  });
});

describe('NoiseFloorGate', () => {
  it('skips nothing before the noise has been heard, then frames under floor + 6 dB; the floor falls at once', () => {
    const gate = new NoiseFloorGate(0.032);
    const noise = 10 ** (-55 / 10);
    expect(gate.skips(noise, false)).toBe(false);
    for (let i = 0; i < 300; i++) gate.skips(noise, false);
    expect(gate.floorDbfs).toBeCloseTo(-55, 5);
    expect(gate.skips(noise, false)).toBe(true);
    expect(gate.skips(noise * 10 ** 0.7, false)).toBe(false);
    expect(gate.skips(1e-9, false)).toBe(true);
    expect(gate.floorDbfs).toBeCloseTo(-75, 5);
  });
});
