import { InvalidRequestError } from '../../lib/errors/hotpath-error';

/** Runs `run` and returns the InvalidRequestError it throws; fails when it throws nothing or something else. */
export function refusal(run: () => unknown): InvalidRequestError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidRequestError) return error;
    throw error;
  }
  throw new Error('expected an InvalidRequestError, nothing was thrown');
}
