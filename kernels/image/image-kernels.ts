/**
 * TypeScript bindings of the image kernels (kernels/build/image.wasm): typed arrays in, fresh
 * typed arrays out, through an arena sized up front and released after each call. Layouts are
 * explicit in every name: HWC (decoder output) and CHW (model input), both row-major.
 */
import { loadKernelModule, type KernelInstance } from '../runtime/load-kernel-module';
import { arenaBytesForByteSizes, createArena, type WasmArena } from '../runtime/wasm-arena';
import { checkFinite, checkInteger, checkTypedArray, KernelArgumentError } from '../kernel-arguments/kernel-argument-checks';
import type { Normalization } from './image-reference';

export interface ImageKernelExports {
  hwcToChw(src: number, pixels: number, channels: number, scale: number, bias: number, dst: number): void;
  chwToHwc(src: number, pixels: number, channels: number, scale: number, bias: number, dst: number): void;
  resizeTableWords(outHeight: number, outWidth: number): number;
  resizeBilinearPlanes(src: number, planes: number, inHeight: number, inWidth: number, dst: number, outHeight: number, outWidth: number, table: number): void;
  resizeBilinearHwcToChw(
    src: number, inHeight: number, inWidth: number, channels: number,
    dst: number, outHeight: number, outWidth: number, scale: number, bias: number, table: number,
  ): void;
}

/** The per-process image kernel instance. */
export function imageKernels(): KernelInstance<ImageKernelExports> {
  return loadKernelModule<ImageKernelExports>('image');
}

function withArena<T>(bytes: number, body: (arena: WasmArena, k: ImageKernelExports) => T): T {
  const instance = imageKernels();
  const arena = createArena(instance, bytes);
  try {
    return body(arena, instance.exports);
  } finally {
    arena.release();
  }
}

const MAX_SIDE = 1 << 15;

function checkImage(name: string, data: ArrayBufferView & { length: number }, height: number, width: number, channels: number): void {
  checkInteger('height', height, 1, MAX_SIDE);
  checkInteger('width', width, 1, MAX_SIDE);
  checkInteger('channels', channels, 1, 64);
  if (data.length !== height * width * channels) {
    throw new KernelArgumentError(`'${name}' must have height*width*channels = ${height}*${width}*${channels} = ${height * width * channels} elements, got ${data.length}`);
  }
}

function checkNormalization(norm: Normalization, channels: number): void {
  if (norm.mean.length !== channels || norm.std.length !== channels) {
    throw new KernelArgumentError(`'norm' needs ${channels} mean and std values (one per channel), got ${norm.mean.length} and ${norm.std.length}`);
  }
  norm.mean.forEach((m, c) => checkFinite(`norm.mean[${c}]`, m));
  norm.std.forEach((s, c) => {
    if (!(Number.isFinite(s) && s > 0)) throw new KernelArgumentError(`'norm.std[${c}]' must be a finite number > 0, got ${s}`);
  });
}

/** scale/bias vectors (padded to 4 lanes) for out = pixel * scale + bias = (pixel / 255 - mean) / std. */
function forwardAffine(norm: Normalization, channels: number): { scale: Float32Array; bias: Float32Array } {
  const lanes = Math.max(4, channels);
  const scale = new Float32Array(lanes);
  const bias = new Float32Array(lanes);
  for (let c = 0; c < channels; c++) {
    scale[c] = 1 / (255 * norm.std[c]!);
    bias[c] = -norm.mean[c]! / norm.std[c]!;
  }
  return { scale, bias };
}

/**
 * HWC uint8 [height, width, channels] -> CHW float32 [channels, height, width], normalized per channel:
 * (pixel / 255 - mean[c]) / std[c].
 */
export function hwcToChw(pixels: Uint8Array, height: number, width: number, channels: number, norm: Normalization): Float32Array {
  checkTypedArray('pixels', pixels, Uint8Array);
  checkImage('pixels', pixels, height, width, channels);
  checkNormalization(norm, channels);
  const { scale, bias } = forwardAffine(norm, channels);
  const n = pixels.length;
  return withArena(arenaBytesForByteSizes(n, 4 * scale.length, 4 * bias.length, 4 * n), (arena, k) => {
    const src = arena.u8(n);
    src.view.set(pixels);
    const s = arena.f32From(scale);
    const b = arena.f32From(bias);
    const dst = arena.f32(n);
    k.hwcToChw(src.ptr, height * width, channels, s.ptr, b.ptr, dst.ptr);
    return dst.view.slice();
  });
}

/** The inverse: CHW float32 -> HWC uint8, round((v * std + mean) * 255) clamped to [0, 255] (half to even; NaN -> 0). */
export function chwToHwc(tensor: Float32Array, height: number, width: number, channels: number, norm: Normalization): Uint8Array {
  checkTypedArray('tensor', tensor, Float32Array);
  checkImage('tensor', tensor, height, width, channels);
  checkNormalization(norm, channels);
  const scale = Float32Array.from(norm.std, (s) => 255 * s);
  const bias = Float32Array.from(norm.mean, (m) => 255 * m);
  const n = tensor.length;
  return withArena(arenaBytesForByteSizes(4 * n, 4 * channels, 4 * channels, n), (arena, k) => {
    const src = arena.f32From(tensor);
    const s = arena.f32From(scale);
    const b = arena.f32From(bias);
    const dst = arena.u8(n);
    k.chwToHwc(src.ptr, height * width, channels, s.ptr, b.ptr, dst.ptr);
    return dst.view.slice();
  });
}

/**
 * Bilinear resize (align_corners=false, as PyTorch/OpenCV, no antialias) of `planes` CHW float32 planes.
 * NaN policy: a NaN reaches every output whose 2x2 source neighbourhood holds it, even at weight 0 (as PyTorch).
 */
export function resizeBilinearPlanes(
  src: Float32Array, planes: number, inHeight: number, inWidth: number, outHeight: number, outWidth: number,
): Float32Array {
  checkTypedArray('src', src, Float32Array);
  checkImage('src', src, inHeight, inWidth, planes);
  checkInteger('outHeight', outHeight, 1, MAX_SIDE);
  checkInteger('outWidth', outWidth, 1, MAX_SIDE);
  const outLength = planes * outHeight * outWidth;
  return withArena(arenaBytesForByteSizes(4 * src.length, 4 * outLength, 12 * (outHeight + outWidth)), (arena, k) => {
    const s = arena.f32From(src);
    const dst = arena.f32(outLength);
    const table = arena.i32(3 * (outHeight + outWidth));
    k.resizeBilinearPlanes(s.ptr, planes, inHeight, inWidth, dst.ptr, outHeight, outWidth, table.ptr);
    return dst.view.slice();
  });
}

/**
 * Vision preprocessing in one pass: HWC uint8 image -> bilinear resize (align_corners=false) ->
 * CHW float32 [channels, outHeight, outWidth] normalized with per-channel mean/std. Pass `out` to reuse
 * a tensor across calls (allocating a fresh 4.9 MB result costs about as much as the kernel itself).
 * @example const input = preprocessImage(rgb, 1080, 1920, 3, 640, 640, IMAGENET_NORMALIZATION);
 */
export function preprocessImage(
  pixels: Uint8Array, inHeight: number, inWidth: number, channels: number, outHeight: number, outWidth: number, norm: Normalization,
  out?: Float32Array,
): Float32Array {
  checkTypedArray('pixels', pixels, Uint8Array);
  checkImage('pixels', pixels, inHeight, inWidth, channels);
  checkInteger('outHeight', outHeight, 1, MAX_SIDE);
  checkInteger('outWidth', outWidth, 1, MAX_SIDE);
  checkNormalization(norm, channels);
  const { scale, bias } = forwardAffine(norm, channels);
  const outLength = channels * outHeight * outWidth;
  if (out !== undefined) {
    checkTypedArray('out', out, Float32Array);
    if (out.length !== outLength) throw new KernelArgumentError(`'out' must have channels*outHeight*outWidth = ${outLength} elements, got ${out.length}`);
  }
  // +4 bytes: the SIMD path reads a whole 4-byte word at the last pixel.
  const bytes = arenaBytesForByteSizes(pixels.length + 4, 4 * outLength, 4 * scale.length, 4 * bias.length, 12 * (outHeight + outWidth));
  return withArena(bytes, (arena, k) => {
    const src = arena.u8(pixels.length + 4);
    src.view.set(pixels);
    const dst = arena.f32(outLength);
    const s = arena.f32From(scale);
    const b = arena.f32From(bias);
    const table = arena.i32(3 * (outHeight + outWidth));
    k.resizeBilinearHwcToChw(src.ptr, inHeight, inWidth, channels, dst.ptr, outHeight, outWidth, s.ptr, b.ptr, table.ptr);
    if (out === undefined) return dst.view.slice();
    out.set(dst.view);
    return out;
  });
}
