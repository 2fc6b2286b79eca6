/**
 * The benchmark's audio: one side of a dialog (one channel of a call) at 16 kHz PCM16. Turns of
 * 1-4 utterances (0.2-0.6 s apart); between them the other side's turn, as long as 1-4 of its
 * utterances, and 0.3-1 s of turn-taking gap, with background only: white noise at -55 dBFS. Utterances are espeak-ng sentences when espeak-ng is installed (Debian package
 * espeak-ng), else the repo's speech-like generator (kernels/audio/synthetic-speech-signal.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resample } from '../../kernels/audio/audio-kernels';
import { syntheticSpeechLikeAudio } from '../../kernels/audio/synthetic-speech-signal';
import { mulberry32 } from '../../kernels/seeded-random/seeded-random';

const SENTENCES = [
  'Hello, thanks for calling. How can I help you today?',
  'I would like to check the status of my order.',
  'Sure, could you give me the order number please?',
  'It is four seven two, nine nine one.',
  'Thank you. One moment while I look that up.',
  'Your parcel left the warehouse this morning.',
  'It should arrive on Thursday before noon.',
  'Great, and can I change the delivery address?',
  'Of course. What is the new address?',
  'Twelve Harbour Street, second floor.',
  'Done. You will get a confirmation by email.',
  'Is there anything else I can do for you?',
  'No, that is all. Have a nice day.',
  'The weather has been strange this week.',
  'We could meet at the station at half past six.',
  'Streaming voice detection decides while the audio arrives.',
];

export interface DialogAudio {
  readonly pcm: Int16Array;
  readonly sampleRate: 16000;
  readonly source: string;
  /** Fraction of samples inside utterances. */
  readonly speechFraction: number;
}

function espeakUtterances(): Float32Array[] | undefined {
  try {
    execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const dir = join(tmpdir(), 'hotpath-bench-stream');
  mkdirSync(dir, { recursive: true });
  return SENTENCES.map((text, i) => {
    const file = join(dir, `utterance-${i}.wav`);
    if (!existsSync(file)) execFileSync('espeak-ng', ['-v', 'en-us', '-s', String(150 + (i % 4) * 10), '-w', file, text]);
    const wav = readFileSync(file);
    // espeak-ng writes 44-byte PCM16 mono 22.05 kHz WAVs; trim its leading and trailing silence.
    const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.byteLength - ((wav.byteLength - 44) % 2)));
    let a = 0;
    let b = pcm.length;
    while (a < b && Math.abs(pcm[a]!) < 64) a++;
    while (b > a && Math.abs(pcm[b - 1]!) < 64) b--;
    return resample(Float32Array.from(pcm.subarray(a, b), (v) => v / 32768), 22050, 16000);
  });
}

/** `seconds` of dialog-like audio (seeded: the same bytes on every run). */
export function dialogAudio(seconds: number, seed = 1): DialogAudio {
  const rate = 16000;
  const random = mulberry32(seed);
  const espeak = espeakUtterances();
  const utterances = espeak ?? Array.from({ length: 16 }, (_, i) => syntheticSpeechLikeAudio({ seconds: 2.5, seed: 100 + i, noiseDbfs: -120 }).samples);
  const n = Math.round(seconds * rate);
  const out = new Float32Array(n);
  const noise = 10 ** (-55 / 20) * Math.sqrt(3);
  for (let i = 0; i < n; i++) out[i] = (random() * 2 - 1) * noise;
  let t = Math.round(rate * (0.5 + random()));
  let speech = 0;
  while (t < n) {
    const count = 1 + Math.floor(random() * 4);
    for (let u = 0; u < count && t < n; u++) {
      const utterance = utterances[Math.floor(random() * utterances.length)]!;
      const length = Math.min(utterance.length, n - t);
      for (let i = 0; i < length; i++) out[t + i] = out[t + i]! + utterance[i]!;
      speech += length;
      t += length + Math.round(rate * (0.2 + 0.4 * random()));
    }
    // The other side's turn (as long as 1-4 of its utterances and their pauses) and the turn-taking gaps: background only here.
    const theirs = 1 + Math.floor(random() * 4);
    for (let u = 0; u < theirs; u++) t += utterances[Math.floor(random() * utterances.length)]!.length + Math.round(rate * (0.2 + 0.4 * random()));
    t += Math.round(rate * (0.3 + 0.7 * random()));
  }
  const pcm = Int16Array.from(out, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
  return { pcm, sampleRate: 16000, source: espeak ? 'espeak-ng utterances' : 'repo speech-like generator (espeak-ng not installed)', speechFraction: speech / n };
}
