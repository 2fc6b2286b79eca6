import type { LoadPoint } from './load-run';

const MB = 1024 * 1024;

export function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : (bytes / MB).toFixed(0);
}

/** A ms figure with 3 significant digits (0.412, 12.3, 1234). */
export function msText(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** One progress line's worth of a load point. */
export function describePoint(point: LoadPoint): string {
  const codes = Object.entries(point.statusCodes).filter(([code]) => !code.startsWith('2')).map(([code, n]) => `${code}×${n}`).join(' ');
  const first = point.lastFirstAnswerMs === undefined ? 'some connection never answered' : `last first answer ${msText(point.lastFirstAnswerMs)} ms`;
  const ramp = point.steady ? `${first}, p99 with ramp ${msText(point.latencyWithRamp?.p99)} ms` : `${first}: no steady window, whole point`;
  return `${point.reqPerSec.toFixed(0)} req/s, p50 ${msText(point.latency?.p50)} ms, p99 ${msText(point.latency?.p99)} ms (${ramp}), `
    + `errors ${point.errors}${point.errors > 0 ? ` (non-2xx ${point.non2xx}${codes ? `: ${codes}` : ''}, socket ${point.socketErrors}, timeouts ${point.timeouts})` : ''}, `
    + `peak RSS ${mb(point.peakRssBytes)} MB${point.stoppedAtRss !== undefined ? ` (stopped at ${mb(point.stoppedAtRss)} MB after ${point.durationS.toFixed(1)} s)` : ''}`;
}
