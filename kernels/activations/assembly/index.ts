// Activation kernels along the last axis: softmax, log-softmax, argmax (numerically stable, max-subtracted).
// Pointer + length interface; arguments are checked by the TypeScript binding (activations-kernels.ts).
export { softmaxRows, logSoftmaxRows, argmaxRows } from './softmax';
