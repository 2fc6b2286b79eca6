// Image kernels: HWC uint8 <-> CHW float32 with per-channel normalization, bilinear resize.
// Pointer + length interface; arguments are checked by the TypeScript binding (image-kernels.ts).
export { hwcToChw, chwToHwc } from './layout';
export { resizeTableWords, resizeBilinearPlanes, resizeBilinearHwcToChw } from './resize';
