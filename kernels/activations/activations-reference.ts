/**
 * Plain TypeScript references for softmax, log-softmax and argmax along the last axis (float64 math).
 * NaN policy (shared with the kernels): a row holding a NaN, a +Infinity, or only -Infinity gives NaN
 * in every softmax/log-softmax entry of that row (max subtraction turns them into NaN, as PyTorch does);
 * other -Infinity entries give 0 (softmax) and -Infinity (log-softmax). Argmax returns the first
 * index of the maximum, or of the first NaN when the row has one (as NumPy and PyTorch do).
 */
function rowMax(x: Float32Array, start: number, cols: number): number {
  let m = -Infinity;
  for (let i = 0; i < cols; i++) {
    const v = x[start + i]!;
    if (Number.isNaN(v)) return NaN;
    if (v > m) m = v;
  }
  return m;
}

export function softmaxReference(x: Float32Array, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let start = 0; start < x.length; start += cols) {
    const m = rowMax(x, start, cols);
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += Math.exp(x[start + i]! - m);
    for (let i = 0; i < cols; i++) out[start + i] = Math.exp(x[start + i]! - m) / sum;
  }
  return out;
}

export function logSoftmaxReference(x: Float32Array, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let start = 0; start < x.length; start += cols) {
    const m = rowMax(x, start, cols);
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += Math.exp(x[start + i]! - m);
    const logSum = Math.log(sum);
    for (let i = 0; i < cols; i++) out[start + i] = x[start + i]! - m - logSum;
  }
  return out;
}

export function argmaxReference(x: Float32Array, cols: number): Int32Array {
  const out = new Int32Array(x.length / cols);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let i = 0; i < cols; i++) {
      const v = x[r * cols + i]!;
      if (Number.isNaN(v)) { best = i; break; }
      if (v > x[r * cols + best]!) best = i;
    }
    out[r] = best;
  }
  return out;
}
