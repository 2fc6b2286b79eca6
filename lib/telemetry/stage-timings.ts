/** A span the tracer opens per stage (a Powertools/X-Ray subsegment); absent when tracing is off. */
export interface StageSpan {
  close(): void;
}
export type OpenStageSpan = (stage: string) => StageSpan | undefined;

/**
 * Durations of one request's stages (decode, infer, encode, ...), in order. The same figures
 * feed the `Server-Timing` header, the EMF metrics and one tracer subsegment per stage.
 */
export class StageTimings {
  private readonly stages: { name: string; ms: number }[] = [];

  constructor(private readonly openSpan: OpenStageSpan = () => undefined) {}

  /** Times an async stage; the duration is recorded even when the stage throws. */
  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const span = this.openSpan(stage);
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.stages.push({ name: stage, ms: performance.now() - started });
      span?.close();
    }
  }

  /** Times a synchronous stage (no promise, so no extra microtask on the hot path). */
  timeSync<T>(stage: string, work: () => T): T {
    const span = this.openSpan(stage);
    const started = performance.now();
    try {
      return work();
    } finally {
      this.stages.push({ name: stage, ms: performance.now() - started });
      span?.close();
    }
  }

  get entries(): readonly { readonly name: string; readonly ms: number }[] {
    return this.stages;
  }

  /** `decode;dur=0.042, infer;dur=1.310` (W3C Server-Timing, milliseconds with 3 decimals). */
  toServerTiming(): string {
    return this.stages.map((s) => `${s.name};dur=${s.ms.toFixed(3)}`).join(', ');
  }
}
