import { HotpathError } from '../../../lib/errors/hotpath-error';

/**
 * A model repository entry that cannot be served: a layout mistake, a config.pbtxt field that
 * is wrong or unsupported, a config that contradicts the graph, or a model that onnxruntime-web
 * cannot run. The message names the file and says what to do; the build leaves that model out
 * and builds the others.
 */
export class ModelRepositoryError extends HotpathError {
  /** The repository file the error is about (config.pbtxt, a model file, a labels file, a folder). */
  readonly file: string;
  /** The model (its folder name) when the error is about one. */
  readonly model: string | undefined;

  constructor(message: string, options: { file: string; model?: string; cause?: unknown }) {
    super(message, { status: 400, expose: true, cause: options.cause });
    this.file = options.file;
    this.model = options.model;
  }
}
