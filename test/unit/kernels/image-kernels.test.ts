import fc from 'fast-check';
import { chwToHwc, hwcToChw, preprocessImage, resizeBilinearPlanes } from '../../../kernels/image/image-kernels';
import {
  chwToHwcReference, hwcToChwReference, IMAGENET_NORMALIZATION, preprocessImageReference, resizeBilinearPlanesReference, type Normalization,
} from '../../../kernels/image/image-reference';

function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]!) !== Number.isNaN(b[i]!)) return Infinity;
    if (!Number.isNaN(a[i]!)) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  return worst;
}

const imageArb = fc
  .record({ height: fc.integer({ min: 1, max: 13 }), width: fc.integer({ min: 1, max: 17 }), channels: fc.integer({ min: 1, max: 6 }) })
  .chain((s) => fc.record({
    ...Object.fromEntries(Object.entries(s).map(([k, v]) => [k, fc.constant(v)])) as { height: fc.Arbitrary<number>; width: fc.Arbitrary<number>; channels: fc.Arbitrary<number> },
    pixels: fc.uint8Array({ minLength: s.height * s.width * s.channels, maxLength: s.height * s.width * s.channels }),
    mean: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: s.channels, maxLength: s.channels }),
    std: fc.array(fc.double({ min: 0.05, max: 2, noNaN: true }), { minLength: s.channels, maxLength: s.channels }),
  }));

/** Pixel value encoding its position, so a layout mix-up cannot go unnoticed. */
function positionalImage(height: number, width: number, channels: number): Uint8Array {
  return Uint8Array.from({ length: height * width * channels }, (_, i) => {
    const c = i % channels;
    const p = (i - c) / channels;
    return (p * 7 + c * 50) % 256;
  });
}

describe('hwcToChw / chwToHwc', () => {
  it('matches the reference and round-trips HWC -> CHW -> HWC exactly for any shape and 1 to 6 channels', () => {
    fc.assert(fc.property(imageArb, ({ height, width, channels, pixels, mean, std }) => {
      const norm: Normalization = { mean, std };
      const chw = hwcToChw(pixels, height, width, channels, norm);
      expect(maxAbsError(chw, hwcToChwReference(pixels, height, width, channels, norm))).toBeLessThan(1e-4);
      expect(chwToHwc(chw, height, width, channels, norm)).toEqual(pixels);
    }));
  });

  it('places channel c of pixel (y, x) at c*H*W + y*W + x (row-major CHW), and back', () => {
    const [h, w, c] = [3, 5, 3];
    const hwc = positionalImage(h, w, c);
    const identity = { mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255] };
    const chw = hwcToChw(hwc, h, w, c, identity);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
      expect(chw[ch * h * w + y * w + x]).toBe(hwc[(y * w + x) * c + ch]);
    }
    expect(chwToHwc(chw, h, w, c, identity)).toEqual(hwc);
  });

  it('clamps, rounds half to even and maps NaN to 0 when converting CHW floats back to bytes', () => {
    const identity = { mean: [0], std: [1 / 255] };
    const tensor = Float32Array.from([-3, 0.5, 1.5, 254.5, 300, NaN, -0, 127.49]);
    const expected = Uint8Array.from([0, 0, 2, 254, 255, 0, 0, 127]);
    expect(chwToHwc(tensor, 1, tensor.length, 1, identity)).toEqual(expected);
    expect(chwToHwcReference(tensor, 1, tensor.length, 1, identity)).toEqual(expected);
  });

  it('refuses a mismatched size or a non-positive std, naming the argument', () => {
    expect(() => hwcToChw(new Uint8Array(10), 2, 2, 3, IMAGENET_NORMALIZATION)).toThrow(/'pixels' must have height\*width\*channels = 2\*2\*3 = 12 elements, got 10/);
    expect(() => hwcToChw(new Uint8Array(3), 1, 1, 3, { mean: [0, 0, 0], std: [1, 0, 1] })).toThrow(/'norm.std\[1\]' must be a finite number > 0, got 0/);
  });
});

describe('resizeBilinearPlanes', () => {
  it('matches the reference when up- and downscaling odd sizes, with negatives and zeros', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 23 }), fc.integer(),
      (planes, ih, iw, oh, ow, seed) => {
        const src = Float32Array.from({ length: planes * ih * iw }, (_, i) => (((i * 2654435761 + seed) >>> 0) % 2001) / 100 - 10);
        expect(maxAbsError(resizeBilinearPlanes(src, planes, ih, iw, oh, ow), resizeBilinearPlanesReference(src, planes, ih, iw, oh, ow))).toBeLessThan(1e-4);
      },
    ));
  });

  it('is the identity at the same size and follows PyTorch align_corners=false on a known case', () => {
    const src = Float32Array.from([0, 1, 2, 3]);
    expect(resizeBilinearPlanes(src, 1, 2, 2, 2, 2)).toEqual(src);
    // torch.nn.functional.interpolate([[0,1],[2,3]], size=(4,4), mode='bilinear', align_corners=False)
    const expected = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3];
    expect(Array.from(resizeBilinearPlanes(src, 1, 2, 2, 4, 4))).toEqual(expected);
  });

  it('propagates NaN to exactly the outputs whose 2x2 neighbourhood holds it, even at weight 0 (as PyTorch)', () => {
    const src = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, NaN]);
    const out = resizeBilinearPlanes(src, 1, 3, 3, 3, 3);
    expect(Array.from(out).map(Number.isNaN)).toEqual([false, false, false, false, true, true, false, true, true]);
    expect(Array.from(resizeBilinearPlanesReference(src, 1, 3, 3, 3, 3)).map(Number.isNaN)).toEqual(Array.from(out).map(Number.isNaN));
  });
});

describe('preprocessImage', () => {
  it('matches the plain TypeScript resize+normalize on random shapes and 1 to 6 channels', () => {
    fc.assert(fc.property(imageArb, fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 21 }), ({ height, width, channels, pixels, mean, std }, oh, ow) => {
      const norm = { mean, std };
      const ours = preprocessImage(pixels, height, width, channels, oh, ow, norm);
      expect(maxAbsError(ours, preprocessImageReference(pixels, height, width, channels, oh, ow, norm))).toBeLessThan(1e-3);
    }));
  });

  it('equals HWC->CHW followed by a planar resize (layouts agree both ways)', () => {
    const [h, w, c] = [9, 14, 3];
    const hwc = positionalImage(h, w, c);
    const fused = preprocessImage(hwc, h, w, c, 5, 6, IMAGENET_NORMALIZATION);
    const separate = resizeBilinearPlanes(hwcToChw(hwc, h, w, c, IMAGENET_NORMALIZATION), c, h, w, 5, 6);
    expect(maxAbsError(fused, separate)).toBeLessThan(1e-4);
  });
});

describe('preprocessImage with a reused output', () => {
  it('writes into `out` and refuses one of the wrong size', () => {
    const pixels = positionalImage(4, 6, 3);
    const out = new Float32Array(3 * 2 * 3);
    expect(preprocessImage(pixels, 4, 6, 3, 2, 3, IMAGENET_NORMALIZATION, out)).toBe(out);
    expect(out).toEqual(preprocessImage(pixels, 4, 6, 3, 2, 3, IMAGENET_NORMALIZATION));
    expect(() => preprocessImage(pixels, 4, 6, 3, 2, 3, IMAGENET_NORMALIZATION, new Float32Array(5))).toThrow(/'out' must have channels\*outHeight\*outWidth = 18 elements, got 5/);
  });
});
