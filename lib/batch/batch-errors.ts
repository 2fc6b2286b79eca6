import { HotpathError, InvalidRequestError, NotFoundError } from '../errors/hotpath-error';

/** 404: no object at the key (storage backends throw it from `head` and `openRead`). */
export class ObjectNotFoundError extends NotFoundError {
  readonly key: string;
  constructor(key: string) {
    super(`object '${key}' does not exist`);
    this.key = key;
  }
}

/** 412: the object changed (ETag or version) since the run looked at it; the run stops rather than mix two versions. */
export class ObjectChangedError extends HotpathError {
  readonly key: string;
  constructor(key: string, expected: string, found: string) {
    super(`object '${key}' changed while it was being scored (ETag ${expected}, now ${found}); the new version is scored by its own event`, {
      status: 412,
      expose: true,
    });
    this.key = key;
  }
}

/**
 * 400: the input file cannot be scored as a whole (unknown format, header not matching the
 * model, Fortran-order NPY, empty file, ...). The run ends with a failed manifest giving this message.
 */
export class BatchInputError extends InvalidRequestError {}
