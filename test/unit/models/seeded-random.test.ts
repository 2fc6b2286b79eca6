import { createSeededRandom } from '../../../layers/models/seeded-random';

describe('createSeededRandom', () => {
  it('repeats its sequence for the same seed', () => {
    // Act
    const a = createSeededRandom(42);
    const b = createSeededRandom(42);

    // Assess
    expect(Array.from({ length: 100 }, a)).toEqual(Array.from({ length: 100 }, b));
  });

  it('gives values in [0, 1) with a mean near 0.5, different per seed', () => {
    // Act
    const values = Array.from({ length: 100_000 }, createSeededRandom(1));
    const other = Array.from({ length: 10 }, createSeededRandom(2));

    // Assess
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(values.reduce((s, v) => s + v, 0) / values.length).toBeCloseTo(0.5, 2);
    expect(other).not.toEqual(values.slice(0, 10));
  });

  it('refuses a seed that is not a uint32', () => {
    // Act / Assess
    expect(() => createSeededRandom(-1)).toThrow('seed -1 must be a uint32');
    expect(() => createSeededRandom(1.5)).toThrow('seed 1.5 must be a uint32');
  });
});
