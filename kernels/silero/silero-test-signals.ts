import { syntheticSpeechLikeAudio } from '../audio/synthetic-speech-signal';
import { mulberry32 } from '../seeded-random/seeded-random';

/** The signals the parity suite and the benchmark run the model on (issue 11's list), by name. */
export const SILERO_EDGE_SIGNALS = ['digital-silence', 'full-scale-noise', 'clipped-speech', 'dc-offset', 'sine-sweep'] as const;
export type SileroEdgeSignal = (typeof SILERO_EDGE_SIGNALS)[number];

/**
 * `seconds` of one edge signal at `sampleRate`: zeros; uniform noise over [-1, 1); speech-like
 * audio 20 dB hot, clipped at ±1; speech-like audio riding on +0.5 DC; a 0.8-amplitude
 * logarithmic sweep from 50 Hz to 0.95 of Nyquist.
 */
export function sileroEdgeSignal(signal: SileroEdgeSignal, seconds: number, sampleRate: number, seed = 5): Float32Array {
  const n = Math.round(seconds * sampleRate);
  const out = new Float32Array(n);
  switch (signal) {
    case 'digital-silence':
      return out;
    case 'full-scale-noise': {
      const random = mulberry32(seed);
      for (let i = 0; i < n; i++) out[i] = random() * 2 - 1;
      return out;
    }
    case 'clipped-speech': {
      const { samples } = syntheticSpeechLikeAudio({ seconds, sampleRate, seed, speechDbfs: -2 });
      for (let i = 0; i < n; i++) out[i] = Math.max(-1, Math.min(1, samples[i]! * 10));
      return out;
    }
    case 'dc-offset': {
      const { samples } = syntheticSpeechLikeAudio({ seconds, sampleRate, seed });
      for (let i = 0; i < n; i++) out[i] = samples[i]! + 0.5;
      return out;
    }
    case 'sine-sweep': {
      const f0 = 50;
      const f1 = 0.95 * (sampleRate / 2);
      const k = Math.log(f1 / f0) / seconds;
      // Phase of an exponential sweep: 2π f0 (e^{kt} - 1) / k.
      for (let i = 0; i < n; i++) out[i] = 0.8 * Math.sin((2 * Math.PI * f0 * (Math.exp((k * i) / sampleRate) - 1)) / k);
      return out;
    }
  }
}
