// Silero VAD v5's forward pass: STFT magnitude, four convolutions with ReLU, one LSTM step, decoder.
// Pointer + length interface; the packed model and every argument are checked by the TypeScript
// binding (kernels/silero/silero-kernels.ts).
export { sileroForward } from './silero-forward';
export { dot, dotRowWithFour, dotFourRows } from './dot-products';
export { rfftPlanBytes, rfftPlanInit } from '../../audio/assembly/fft';
