// Feed-forward family: the steps of a feed-forward ONNX graph's kernel plan (dense layers,
// element-wise arithmetic and activations, softmax and argmax along the last axis). Pointer +
// length arguments only; the plan's shapes are proven at build and checked by the TypeScript
// binding (kernels/feed-forward/feed-forward-kernels.ts), never here.
export { denseLayer, transpose } from './gemm';
export { binaryWithConstant, binarySameShape, unaryActivation } from './elementwise';
export { softmaxRows, argmaxRows } from '../../activations/assembly/softmax';
