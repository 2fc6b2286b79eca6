/** A decimal number as CSV and people write it: optional sign, digits with an optional point, optional exponent. */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * A feature cell's value, or undefined where the cell is not a finite decimal number
 * (empty, text, `NaN`, `inf`, hex: `Number()` would read '' as 0 and '0x1f' as 31).
 */
export function parseFeature(cell: string): number | undefined {
  if (!DECIMAL.test(cell)) return undefined;
  const value = Number(cell);
  return Number.isFinite(value) && Math.abs(value) <= 3.4028234663852886e38 ? value : undefined;
}
