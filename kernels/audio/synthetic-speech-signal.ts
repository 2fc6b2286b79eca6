import { mulberry32 } from '../seeded-random/seeded-random';

export interface SyntheticSpeechOptions {
  readonly seconds: number;
  readonly sampleRate?: number;
  readonly seed?: number;
  /** RMS of the background noise in dBFS (default -55). */
  readonly noiseDbfs?: number;
  /** RMS of the bursts in dBFS (default -22). */
  readonly speechDbfs?: number;
}

/**
 * Speech-like test audio: white background noise with bursts of 0.3-2.5 s (a harmonic "voiced"
 * tone with a 4 Hz syllable envelope, f0 90-250 Hz, and short noisy "fricative" stretches)
 * separated by 0.4-3 s of noise. Returns the samples and the true burst boundaries in samples.
 */
export function syntheticSpeechLikeAudio(options: SyntheticSpeechOptions): { samples: Float32Array; bursts: { start: number; end: number }[] } {
  const sampleRate = options.sampleRate ?? 16000;
  const random = mulberry32(options.seed ?? 1);
  const n = Math.round(options.seconds * sampleRate);
  const samples = new Float32Array(n);
  const noiseAmp = 10 ** ((options.noiseDbfs ?? -55) / 20) * Math.sqrt(3);
  for (let i = 0; i < n; i++) samples[i] = (random() * 2 - 1) * noiseAmp;
  const speechAmp = 10 ** ((options.speechDbfs ?? -22) / 20);
  const bursts: { start: number; end: number }[] = [];
  let t = Math.round((0.4 + random() * 1.5) * sampleRate);
  while (true) {
    const length = Math.round((0.3 + random() * 2.2) * sampleRate);
    if (t + length >= n) break;
    const f0 = 90 + random() * 160;
    const phase0 = random() * 6.28;
    const fricativeAt = random() < 0.5 ? t + Math.round(length * random() * 0.7) : -1;
    const fricativeLength = Math.round(0.08 * sampleRate);
    for (let i = 0; i < length; i++) {
      const time = i / sampleRate;
      // A 4 Hz syllable envelope that stays well above the noise, with 10 ms fades at both ends.
      const fade = Math.min(1, i / (0.01 * sampleRate), (length - i) / (0.01 * sampleRate));
      const envelope = fade * (0.55 + 0.45 * Math.abs(Math.sin(Math.PI * 4 * time)));
      const w = 2 * Math.PI * f0 * time + phase0;
      let v = Math.sin(w) + 0.5 * Math.sin(2 * w) + 0.3 * Math.sin(3 * w);
      if (fricativeAt >= 0 && t + i >= fricativeAt && t + i < fricativeAt + fricativeLength) v = (random() * 2 - 1) * 1.2;
      samples[t + i] = samples[t + i]! + v * envelope * speechAmp * 1.2;
    }
    bursts.push({ start: t, end: t + length });
    t += length + Math.round((0.4 + random() * 2.6) * sampleRate);
  }
  return { samples, bursts };
}
