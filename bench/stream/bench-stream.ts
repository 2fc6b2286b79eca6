/**
 * `npm run bench:stream`: streaming voice detection (lib/streaming/).
 *   1. real-time factor on `--minutes` (default 60) of dialog-like audio (dialog-audio.ts): gated
 *      and ungated Silero on the default backend (what serves silero-vad by default: our kernels
 *      where the models layer holds a kernel plan, else onnxruntime-web; then onnxruntime-web
 *      ungated too) and ungated on onnxruntime-node (the anchor), in the same run, through the whole pipeline (PCM16 bytes in 64 KiB slices);
 *   2. the gate: % of frames the model did not run, and how far the gated segments are from the
 *      ungated ones;
 *   3. time to first event over real HTTP (the OIP server's stream route): from writing the
 *      chunk that completes a speech onset to reading its `start` event, audio paced at 4x real time;
 *   4. streams one core sustains (1 / RTF) and the cost of an audio hour on Lambda arm64 at the
 *      configured memory, from the measured RTF.
 * Writes bench/results/stream.json and prints the BENCHMARKS.md section.
 * @example flock /tmp/hotpath-bench.lock npm run bench:stream -- --minutes 60
 */
import { request as httpRequest } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadServingConfig } from '../../lib/config/serving-config';
import { LAMBDA_PRICES } from '../../lib/serving/route-cost';
import { createServingRuntime, type ServingRuntime } from '../../lib/serving/serving-runtime';
import { startOipServer } from '../../lib/server/oip-server';
import type { VoiceEvent } from '../../lib/streaming/audio-stream-detector';
import { createStreamDetector } from '../../lib/streaming/detection-stream';
import { wavHeader } from '../../lib/streaming/wav-stream-parser';
import { compareWithAnchor, describeMachine, writeBenchResults, type BenchResult } from '../bench-results';
import { dialogAudio } from './dialog-audio';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const MINUTES = option('minutes', 60);
const TTFE_SECONDS = option('ttfe-seconds', 60);
const SLICE = 64 * 1024;
const quiet = { info() {}, warn() {}, error() {} };

interface Pass {
  readonly label: string;
  readonly ms: number;
  readonly rtf: number;
  readonly frames: number;
  readonly modelCalls: number;
  readonly events: VoiceEvent[];
}

async function detectWhole(runtime: ServingRuntime, label: string, bytes: Uint8Array, gate: boolean, seconds: number): Promise<Pass> {
  const detector = createStreamDetector(runtime, { container: 'raw', format: { encoding: 'pcm16', sampleRate: 16000, channels: 1 } }, gate);
  const events: VoiceEvent[] = [];
  const started = performance.now();
  for (let at = 0; at < bytes.byteLength; at += SLICE) events.push(...(await detector.push(bytes.subarray(at, at + SLICE))));
  events.push(...(await detector.finish()));
  const ms = performance.now() - started;
  const c = detector.counters!;
  const pass = { label, ms, rtf: ms / 1000 / seconds, frames: c.frames, modelCalls: c.modelCalls, events };
  console.error(`${label}: ${(ms / 1000).toFixed(1)} s for ${seconds} s of audio, RTF ${pass.rtf.toFixed(5)}, ${c.modelCalls}/${c.frames} model calls, ${c.segments} segments`);
  return pass;
}

function segmentsOf(events: readonly VoiceEvent[]): [number, number][] {
  const starts = events.filter((e) => e.event === 'start');
  const ends = events.filter((e) => e.event === 'end');
  return ends.map((e, i) => [starts[i]!.sample, e.sample]);
}

/** For each reference segment, the overlapping segment of `other` with the most overlap; boundary differences in ms. */
function compareSegments(reference: [number, number][], other: [number, number][]) {
  const diffs: number[] = [];
  let unmatched = 0;
  let j = 0;
  for (const [s, e] of reference) {
    while (j < other.length && other[j]![1] <= s) j++;
    let best = -1;
    let bestOverlap = 0;
    for (let k = j; k < other.length && other[k]![0] < e; k++) {
      const overlap = Math.min(e, other[k]![1]) - Math.max(s, other[k]![0]);
      if (overlap > bestOverlap) {
        bestOverlap = overlap;
        best = k;
      }
    }
    if (best < 0) {
      unmatched++;
      continue;
    }
    diffs.push(Math.abs(other[best]![0] - s) / 16, Math.abs(other[best]![1] - e) / 16);
  }
  diffs.sort((a, b) => a - b);
  const within30 = diffs.filter((d) => d <= 30).length;
  return { boundaries: diffs.length, within30, unmatched, p99: diffs[Math.floor(0.99 * (diffs.length - 1))] ?? 0, max: diffs.at(-1) ?? 0 };
}

/**
 * Segment match, one to one: an ungated segment is matched when a gated segment not matched yet
 * starts within `toleranceMs` of its start and ends within `toleranceMs` of its end (both sorted
 * by start; segments do not overlap, so the scan is greedy and exact). Unmatched on both sides.
 */
function matchSegments(reference: [number, number][], other: [number, number][], toleranceMs = 30) {
  const tol = (toleranceMs * 16000) / 1000;
  let j = 0;
  let matched = 0;
  for (const [s, e] of reference) {
    while (j < other.length && other[j]![0] < s - tol) j++;
    if (j < other.length && Math.abs(other[j]![0] - s) <= tol && Math.abs(other[j]![1] - e) <= tol) {
      matched++;
      j++;
    }
  }
  return { reference: reference.length, other: other.length, matched, unmatchedReference: reference.length - matched, unmatchedOther: other.length - matched };
}

/** Time to first event over HTTP: WAV streamed in 20 ms chunks at 4x real time; per start event, read time - write time of its deciding chunk. */
async function timeToFirstEvent(runtime: ServingRuntime, pcm: Int16Array): Promise<number[]> {
  const server = await startOipServer({ runtime, port: 0, logger: quiet });
  try {
    const body = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const chunkBytes = 320 * 2;
    const sentAt: number[] = [];
    const latencies: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${server.url}/v2/models/voice-detector/generate_stream?format=pcm16&rate=16000`, { method: 'POST', headers: { 'transfer-encoding': 'chunked', accept: 'application/x-ndjson' } });
      req.on('error', reject);
      req.on('response', (res) => {
        let buffered = '';
        res.on('data', (chunk: Buffer) => {
          const now = performance.now();
          buffered += chunk.toString();
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const event = JSON.parse(buffered.slice(0, nl));
            buffered = buffered.slice(nl + 1);
            // The chunk holding the last sample of the frame that decided the start.
            if (event.event === 'start') latencies.push(now - sentAt[Math.floor((event.decided_at * 2 - 1) / chunkBytes)]!);
          }
        });
        res.on('end', resolve);
      });
      req.flushHeaders();
      let i = 0;
      const writeNext = () => {
        if (i * chunkBytes >= body.byteLength) {
          req.end();
          return;
        }
        sentAt[i] = performance.now();
        req.write(body.subarray(i * chunkBytes, (i + 1) * chunkBytes));
        i++;
        setTimeout(writeNext, 5);
      };
      writeNext();
    });
    return latencies;
  } finally {
    await server.close(100);
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

async function main(): Promise<void> {
  const seconds = MINUTES * 60;
  const audio = dialogAudio(seconds);
  const bytes = new Uint8Array(audio.pcm.buffer);
  console.error(`audio: ${MINUTES} min of dialog-like audio from ${audio.source}, ${(100 * audio.speechFraction).toFixed(1)} % inside utterances`);
  // onnxruntime-node first: loaded after onnxruntime-web, its cpu backend would be the WASM one (STACK.md).
  const native = await createServingRuntime(loadServingConfig(process.env, { onnxBackend: 'native', providers: ['cpu'], models: ['silero-vad'], wasmThreads: 1 }), quiet);
  const wasm = await createServingRuntime(loadServingConfig(process.env, { models: ['silero-vad'], wasmThreads: 1 }), quiet);
  // The default backend is whatever serves silero-vad by default: onnxruntime-web, or our kernels where the models layer holds a kernel plan.
  const served = wasm.registry.findReady('silero-vad');
  const defaultBackend = String(served.manifest.parameters?.backend ?? served.state.backend.route);
  const ortWeb = defaultBackend === 'onnxruntime-web' ? undefined
    : await createServingRuntime(loadServingConfig(process.env, { models: ['silero-vad'], wasmThreads: 1, wasmModels: ['silero-vad'] }), quiet);
  const nativeProvider = native.registry.findReady('silero-vad').state.session.executionProvider?.provider ?? 'cpu';
  // Warm both (V8 tier-up of the WASM code, onnxruntime's first runs) on 20 s of the same audio.
  const warm = bytes.subarray(0, 20 * 16000 * 2);
  await detectWhole(wasm, 'warm-up wasm', warm, false, 20);
  await detectWhole(native, 'warm-up native', warm, false, 20);

  const ungatedNative = await detectWhole(native, `ungated, onnxruntime-node (${nativeProvider})`, bytes, false, seconds);
  const ungated = await detectWhole(wasm, `ungated, ${defaultBackend}`, bytes, false, seconds);
  const gated = await detectWhole(wasm, `gated, ${defaultBackend}`, bytes, true, seconds);
  if (ortWeb) await detectWhole(ortWeb, 'warm-up onnxruntime-web', warm, false, 20);
  const ungatedWeb = ortWeb ? await detectWhole(ortWeb, 'ungated, onnxruntime-web', bytes, false, seconds) : undefined;
  const skipped = 1 - gated.modelCalls / gated.frames;
  const agreement = compareSegments(segmentsOf(ungated.events), segmentsOf(gated.events));
  const match = matchSegments(segmentsOf(ungated.events), segmentsOf(gated.events));
  console.error(`segment match (start and end within 30 ms, one to one): ${match.matched}/${match.reference} ungated segments; unmatched: ${match.unmatchedReference} ungated, ${match.unmatchedOther} of ${match.other} gated`);
  console.error(`gate: ${(100 * skipped).toFixed(1)} % of frames skipped; ${agreement.within30}/${agreement.boundaries} boundaries within 30 ms of ungated, ${agreement.unmatched} ungated segments unmatched; ${segmentsOf(gated.events).length} gated segments vs ${segmentsOf(ungated.events).length}`);

  const ttfeAudio = audio.pcm.subarray(0, Math.min(audio.pcm.length, TTFE_SECONDS * 16000));
  const ttfe = await timeToFirstEvent(wasm, ttfeAudio);
  console.error(`time to first event: ${ttfe.length} starts, median ${median(ttfe).toFixed(2)} ms, max ${Math.max(...ttfe).toFixed(2)} ms`);

  const memoryMb = wasm.config.routeCost.memoryMb;
  const gbSecond = LAMBDA_PRICES.usdPerGbSecond.arm64;
  // An hour of 16 kHz PCM16 is 115.2 MB: 20 invocations of <= 6 MB, each billed for its processing time.
  const requestsPerHour = Math.ceil((3600 * 16000 * 2) / (6 * 1024 * 1024));
  const hourUsd = (rtf: number) => rtf * 3600 * (memoryMb / 1024) * gbSecond + requestsPerHour * LAMBDA_PRICES.usdPerRequest;

  const results: BenchResult[] = [
    compareWithAnchor({ case: `stream/rtf-gated-default-${MINUTES}min`, metric: 'rtf', value: round(gated.rtf), lower_is_better: true, note: `default backend: ${defaultBackend}; ${audio.source}` },
      `ungated Silero on onnxruntime-node ${nativeProvider}, 1 thread, same run`, round(ungatedNative.rtf), 0.5),
    compareWithAnchor({ case: `stream/rtf-ungated-default-${MINUTES}min`, metric: 'rtf', value: round(ungated.rtf), lower_is_better: true },
      `ungated Silero on onnxruntime-node ${nativeProvider}, 1 thread, same run`, round(ungatedNative.rtf)),
    ...(ungatedWeb ? [compareWithAnchor({ case: `stream/rtf-ungated-onnxruntime-web-${MINUTES}min`, metric: 'rtf', value: round(ungatedWeb.rtf), lower_is_better: true },
      `ungated Silero on onnxruntime-node ${nativeProvider}, 1 thread, same run`, round(ungatedNative.rtf))] : []),
    { case: `stream/rtf-ungated-native-${MINUTES}min`, metric: 'rtf', value: round(ungatedNative.rtf), lower_is_better: true },
    { case: 'stream/gate-skipped-model-calls', metric: 'fraction', value: round(skipped), lower_is_better: false, target_ratio: 0.5, met: skipped >= 0.5,
      note: `${gated.modelCalls} of ${gated.frames} frames ran the model (preroll included); ${(100 * audio.speechFraction).toFixed(1)} % of the audio inside utterances` },
    { case: 'stream/gated-segments-matching-ungated-within-30ms', metric: 'fraction', value: round(match.reference ? match.matched / match.reference : 0), lower_is_better: false,
      target_ratio: 1, met: match.unmatchedReference === 0 && match.unmatchedOther === 0,
      note: `${match.matched} of ${match.reference} ungated segments have a gated one (one to one) starting and ending within 30 ms; unmatched: ${match.unmatchedReference} ungated, ${match.unmatchedOther} of ${match.other} gated` },
    { case: 'stream/gated-boundaries-within-30ms-of-ungated', metric: 'fraction', value: round(agreement.boundaries ? agreement.within30 / agreement.boundaries : 0), lower_is_better: false,
      target_ratio: 1, met: agreement.within30 === agreement.boundaries && agreement.unmatched === 0 && segmentsOf(gated.events).length === segmentsOf(ungated.events).length,
      note: `${agreement.within30}/${agreement.boundaries} boundaries of the ${segmentsOf(ungated.events).length} ungated segments (the gated run found ${segmentsOf(gated.events).length}: `
        + `where fewer, two ungated segments overlap one gated); p99 ${agreement.p99.toFixed(0)} ms, max ${agreement.max.toFixed(0)} ms; ${agreement.unmatched} ungated segments overlap no gated one` },
    { case: 'stream/time-to-first-event-http', metric: 'median_ms', value: round(median(ttfe)), lower_is_better: true, target_ratio: 20, met: median(ttfe) <= 20,
      note: `${ttfe.length} speech onsets in ${TTFE_SECONDS} s streamed at 4x real time over loopback HTTP; max ${Math.max(...ttfe).toFixed(2)} ms` },
    { case: 'stream/streams-per-core-gated-default', metric: 'streams', value: round(1 / gated.rtf, 3), lower_is_better: false },
    { case: 'stream/streams-per-core-ungated-native', metric: 'streams', value: round(1 / ungatedNative.rtf, 3), lower_is_better: false },
    { case: `stream/lambda-arm64-${memoryMb}mb-usd-per-audio-hour-gated-default`, metric: 'usd', value: round(hourUsd(gated.rtf)), lower_is_better: true,
      note: `RTF measured on this x86-64 machine, priced as arm64 (${LAMBDA_PRICES.source}); ${requestsPerHour} requests of <= 6 MB per hour` },
    { case: `stream/lambda-arm64-${memoryMb}mb-usd-per-audio-hour-ungated-default`, metric: 'usd', value: round(hourUsd(ungated.rtf)), lower_is_better: true },
  ];
  const path = writeBenchResults('stream', results);
  console.error(`wrote ${path}`);
  const section = [
    '## Streaming voice detection',
    '',
    `\`flock /tmp/hotpath-bench.lock npm run bench:stream -- --minutes ${MINUTES}\` on ${describeMachine()}, ${new Date().toISOString().slice(0, 10)}; ${MINUTES} min of dialog-like audio (${audio.source}, ${(100 * audio.speechFraction).toFixed(1)} % inside utterances), one thread.`,
    '',
    '| case | value | anchor | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => `| ${r.case} | ${r.value} ${r.metric} | ${r.anchor ? `${r.anchor_value} (${r.anchor})` : ''} | ${r.ratio ?? ''} | ${r.target_ratio ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} |`),
    '',
    ...results.filter((r) => r.note).map((r) => `- ${r.case}: ${r.note}`),
  ].join('\n');
  writeFileSync(join(__dirname, '..', 'results', 'stream.md'), `${section}\n`);
  console.log(section);
  await native.registry.dispose();
  await wasm.registry.dispose();
  await ortWeb?.registry.dispose();
}

void main();
