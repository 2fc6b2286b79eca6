import { compareWithAnchor, type BenchResult } from '../bench-results';
import type { ColdConfig } from './cold-configs';
import type { ColdSummary } from './cold-stats';

/**
 * Assumed, not measured: one GetObject stream from Lambda to S3 in the same region. 85 MB/s
 * is the per-request throughput Amazon's S3 performance guidelines size concurrency by
 * ("85-90 MB/s" per request); 100 ms stands for the TLS connection, credentials and first
 * byte. The local server on 127.0.0.1 has neither the latency nor the bandwidth limit.
 */
export const ASSUMED_S3 = { megabytesPerSecond: 85, firstByteMs: 100 } as const;

/** Estimated ms to fetch `bytes` from real S3 at ASSUMED_S3 (an estimate, labelled so wherever it is shown). */
export function estimatedS3DownloadMs(bytes: number): number {
  return ASSUMED_S3.firstByteMs + (bytes / (ASSUMED_S3.megabytesPerSecond * 1e6)) * 1000;
}

/**
 * Per model of the `s3` group: the cold start from S3 into an empty /tmp and from a warm /tmp,
 * each against the same model from the layer in the same run; the download phase and its
 * local throughput; and the first INIT estimated on real S3 (measured total − measured local
 * download + estimatedS3DownloadMs). Printed, and returned for bench/results.
 */
export function s3Results(rows: readonly ColdSummary[], configs: readonly ColdConfig[], bytes: ReadonlyMap<string, number>): BenchResult[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const results: BenchResult[] = [];
  for (const [model, size] of bytes) {
    const of = (from: string) => byId.get(configs.find((c) => c.group === 's3' && c.models === model && c.id.endsWith(`/${from}`))?.id ?? '');
    const layer = of('layer');
    const download = of('s3-download');
    const warm = of('s3-warm-tmp');
    if (!layer || !download || !warm) continue;
    const local = download.phaseMedians['S3 download'] ?? Number.NaN;
    const sdk = download.phaseMedians['S3 client'] ?? Number.NaN;
    const estimate = estimatedS3DownloadMs(size);
    const estimatedTotal = download.medianMs - local + estimate;
    results.push(
      compareWithAnchor({ case: `s3/${model} first INIT (download) vs layer`, metric: 'median_ms', value: round(download.medianMs), lower_is_better: true }, layer.id, round(layer.medianMs)),
      compareWithAnchor({ case: `s3/${model} re-INIT (warm /tmp) vs layer`, metric: 'median_ms', value: round(warm.medianMs), lower_is_better: true }, layer.id, round(layer.medianMs)),
      { case: `s3/${model} local S3 download`, metric: 'median_ms', value: round(local), lower_is_better: true, note: `${size} bytes, ${round(size / 1e6 / (local / 1000))} MB/s from s3rver over 127.0.0.1 (not S3's latency or bandwidth)` },
      { case: `s3/${model} AWS SDK import + client`, metric: 'median_ms', value: round(sdk), lower_is_better: true, note: '@aws-sdk/client-s3 from node_modules (on Lambda: the runtime\'s copy)' },
      {
        case: `s3/${model} first INIT on real S3 (ESTIMATE)`, metric: 'median_ms', value: round(estimatedTotal), lower_is_better: true,
        note: `estimate, not measured: measured total minus the local download plus ${round(estimate)} ms for ${size} bytes at an assumed ${ASSUMED_S3.megabytesPerSecond} MB/s and ${ASSUMED_S3.firstByteMs} ms to first byte`,
      },
    );
    console.log(`s3 ${model} (${(size / 1e6).toFixed(2)} MB): layer ${layer.medianMs.toFixed(0)} ms · S3 into empty /tmp ${download.medianMs.toFixed(0)} ms (${(download.medianMs / layer.medianMs).toFixed(2)}x; SDK import + client ${sdk.toFixed(0)} ms, download ${local.toFixed(0)} ms locally) · warm /tmp ${warm.medianMs.toFixed(0)} ms (${(warm.medianMs / layer.medianMs).toFixed(2)}x) · ESTIMATE on real S3: ${estimatedTotal.toFixed(0)} ms (download ~${estimate.toFixed(0)} ms at ${ASSUMED_S3.megabytesPerSecond} MB/s + ${ASSUMED_S3.firstByteMs} ms, assumed)`);
  }
  return results;
}

function round(value: number, digits = 1): number {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value;
}
