import { HotpathError } from '../errors/hotpath-error';

/**
 * Audio whose encoding the detector cannot read (8- or 24-bit PCM, A-law, ADPCM, more than two
 * channels): 415, with the encodings it can read.
 */
export class UnsupportedAudioError extends HotpathError {
  constructor(message: string) {
    super(message, { status: 415, expose: true });
  }
}

/** The supported encodings, for messages. */
export const SUPPORTED_ENCODINGS_TEXT = 'WAV or raw PCM, 16-bit integer (pcm16) or 32-bit IEEE float (float32), little-endian, mono or stereo';
