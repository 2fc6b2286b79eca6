/** A decimal number as CSV and people write it: optional sign, digits with an optional point, optional exponent. */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Powers of ten that doubles hold exactly. */
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * A feature cell's value, or undefined where the cell is not a finite decimal number
 * (empty, text, `NaN`, `inf`, hex: `Number()` would read '' as 0 and '0x1f' as 31).
 *
 * Fast path, exact: a cell of at most 15 digits with an optional leading '-' and one optional
 * point is `digits / 10^decimals`, both exact in a double, so their quotient is the correctly
 * rounded value, the same double `Number()` answers (Clinger's fast path). Anything else goes
 * through the regular expression and `Number()`.
 */
export function parseFeature(cell: string): number | undefined {
  const fast = shortDecimal(cell, 0, cell.length);
  if (fast === fast) return fast;
  if (!DECIMAL.test(cell)) return undefined;
  const value = Number(cell);
  return Number.isFinite(value) && Math.abs(value) <= 3.4028234663852886e38 ? value : undefined;
}

/**
 * `text[start, end)` read by parseFeature's fast path (at most 15 digits, an optional leading
 * '-' and one optional point), or NaN where it is not of that form (then parseFeature's regular
 * path decides; NaN never comes out of the fast path otherwise).
 */
export function shortDecimal(text: string, start: number, end: number): number {
  if (end <= start || end - start > 17) return Number.NaN;
  let i = text.charCodeAt(start) === 0x2d ? start + 1 : start;
  const negative = i > start;
  let mantissa = 0;
  let digits = 0;
  let point = -1;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
    } else if (c === 0x2e && point < 0) {
      point = i;
    } else {
      return Number.NaN;
    }
  }
  if (digits === 0 || digits > 15) return Number.NaN;
  const value = point < 0 ? mantissa : mantissa / POW10[end - 1 - point]!;
  return negative ? -value : value;
}
