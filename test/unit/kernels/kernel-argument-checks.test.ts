import { argmax } from '../../../kernels/activations/activations-kernels';
import { checkInteger, KernelArgumentError } from '../../../kernels/kernel-arguments/kernel-argument-checks';
import { KMeansError, fitKMeans } from '../../../kernels/kmeans/kmeans-kernels';
import { HotpathError, InvalidRequestError } from '../../../lib/errors/hotpath-error';

function thrown(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('KernelArgumentError', () => {
  it('is a 400 of the error family, shown to the caller, when a kernel binding refuses an argument', () => {
    // Act
    const error = thrown(() => argmax(new Float32Array(4), 0));

    // Assess
    expect(error).toBeInstanceOf(KernelArgumentError);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toBeInstanceOf(HotpathError);
    expect(error).toMatchObject({ status: 400, expose: true, name: 'KernelArgumentError', message: "'cols' must be an integer >= 1, got 0" });
  });

  it('keeps its subclasses in the family with their own names', () => {
    // Act
    const error = thrown(() => fitKMeans(new Float32Array(4), 2, { k: 3 }));

    // Assess
    expect(error).toBeInstanceOf(KMeansError);
    expect(error).toBeInstanceOf(KernelArgumentError);
    expect(error).toMatchObject({ status: 400, name: 'KMeansError' });
  });
});

describe('checkInteger', () => {
  it('returns the value when it is an integer in range', () => {
    expect(checkInteger('k', 3, 1, 4)).toBe(3);
    expect(checkInteger('n', 0, 0)).toBe(0);
  });

  it.each([
    [0.5, 0, undefined, "'x' must be an integer >= 0, got 0.5"],
    [NaN, 0, undefined, "'x' must be an integer >= 0, got NaN"],
    [5, 1, 4, "'x' must be an integer in [1, 4], got 5"],
    [-1, 0, 8, "'x' must be an integer in [0, 8], got -1"],
  ])('refuses %p for min %p max %p, quoting the argument', (value, min, max, message) => {
    expect(() => checkInteger('x', value, min, max)).toThrow(new KernelArgumentError(message));
  });
});
