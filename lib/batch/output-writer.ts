import type { ObjectStorage, ObjectWriter } from './object-storage';
import type { StageDurations } from './row-batch';

/**
 * Text written to one output object with the stream's backpressure honoured; the time spent
 * writing and waiting for the storage to take the bytes is the `write` stage.
 */
export class OutputWriter {
  private readonly writer: ObjectWriter;
  private settled = false;

  constructor(storage: ObjectStorage, key: string, contentType: string, private readonly durations: StageDurations) {
    this.writer = storage.openWrite(key, { contentType });
  }

  /** Writes `text`; resolves once the stream can take more. */
  async write(text: string | Uint8Array): Promise<void> {
    if (text.length === 0) return;
    const started = performance.now();
    if (!this.writer.stream.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const stream = this.writer.stream;
        const onDrain = () => {
          stream.off('error', onError);
          resolve();
        };
        const onError = (error: Error) => {
          stream.off('drain', onDrain);
          reject(error);
        };
        stream.once('drain', onDrain);
        stream.once('error', onError);
      });
    }
    this.durations.write += performance.now() - started;
  }

  /** Ends the stream and waits until the object is in place. */
  async finish(): Promise<void> {
    const started = performance.now();
    this.settled = true;
    this.writer.stream.end();
    await this.writer.done;
    this.durations.write += performance.now() - started;
  }

  /** Cancels the write (nothing appears at the key); a no-op once finished. */
  async abort(reason: Error): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.writer.abort(reason);
  }
}
