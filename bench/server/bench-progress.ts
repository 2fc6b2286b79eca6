/**
 * Progress lines on stderr with the time spent and the time planned, e.g.
 * `bench:server [02:10 / ~09:34] server mlp-medium-b32-binary c=32: 480 req/s, p50 66.1 ms ...`.
 */
export class BenchProgress {
  private readonly started = performance.now();

  constructor(private readonly plannedSeconds: number) {}

  log(message: string): void {
    process.stderr.write(`bench:server [${clock((performance.now() - this.started) / 1000)} / ~${clock(this.plannedSeconds)}] ${message}\n`);
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}

/** `m:ss` of a duration in seconds. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
