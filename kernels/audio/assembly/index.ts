// Audio kernels: PCM conversion, downmix, resampling, pre-emphasis, real FFT, log-mel, frame features.
// Pointer + length interface; arguments are checked by the TypeScript binding (audio-kernels.ts).
export { pcm16ToFloat32, float32ToPcm16 } from './pcm16';
export { downmixToMono } from './downmix';
export { preEmphasis } from './pre-emphasis';
export { resamplePolyphase } from './resample';
export { rfftPlanBytes, rfftPlanInit, rfft, rfftPower } from './fft';
export { logMelSpectrogram } from './log-mel';
export { frameFeatures } from './frame-features';
