import { deflateSync, gzipSync } from 'node:zlib';
import { compareWithAnchor, type BenchResult } from '../bench-results';
import { inflateRequestBody } from '../../lib/http/content-encoding';
import { decodeInferRequest } from '../../lib/protocol/infer-request-decoder';
import { encodeInferRequest } from '../../lib/protocol/infer-request-encoder';
import { sampleLatency, summarize, warmUp, type LatencySummary } from '../serve/latency-sampler';
import { seededFloats } from '../serve/serve-inputs';

export interface GzipDecodeMeasurement {
  readonly elements: number;
  readonly binaryBytes: number;
  readonly gzipBytes: number;
  readonly deflateBytes: number;
  /** decodeInferRequest on the uncompressed binary body. */
  readonly decode: LatencySummary;
  /** inflateRequestBody (the server's bounded inflate) of the gzip body, then decodeInferRequest. */
  readonly gzip: LatencySummary;
  readonly deflate: LatencySummary;
}

/**
 * What `Content-Encoding` costs the server on a 1M FP32 binary request (Triton's binary
 * extension): inflating the body (gzip and zlib deflate, compressed at the levels of Python's
 * gzip.compress and zlib.compress defaults, 9 and 6, which Triton's client calls) with the
 * inflated-size bound, plus the decode, beside the decode of the uncompressed body.
 */
export async function measureGzipDecode(samples: number, loopMs: number): Promise<GzipDecodeMeasurement> {
  const elements = 1_000_000;
  const tensor = { name: 'input', datatype: 'FP32' as const, shape: [1000, 1000], data: seededFloats(elements) };
  const { body, headers } = encodeInferRequest([tensor], { binary: true });
  const gzipBody = gzipSync(body, { level: 9 });
  const deflateBody = deflateSync(body, { level: 6 });
  const limit = 64 * 1024 * 1024;
  const check = (decoded: ReturnType<typeof decodeInferRequest>) => {
    if ((decoded.inputs[0]!.data as Float32Array).length !== elements) throw new Error('decode returned the wrong element count');
  };
  const decodePlain = () => check(decodeInferRequest(body, headers));
  const decodeGzip = () => check(decodeInferRequest(inflateRequestBody(gzipBody, 'gzip', limit), headers));
  const decodeDeflate = () => check(decodeInferRequest(inflateRequestBody(deflateBody, 'deflate', limit), headers));
  const measure = async (work: () => void, count: number) => {
    await warmUp(work, { count: Math.max(3, count / 10), minMs: 0, maxMs: loopMs / 4 });
    return summarize(await sampleLatency(work, { count, maxMs: loopMs }));
  };
  return {
    elements,
    binaryBytes: body.byteLength,
    gzipBytes: gzipBody.byteLength,
    deflateBytes: deflateBody.byteLength,
    decode: await measure(decodePlain, samples * 10),
    gzip: await measure(decodeGzip, samples),
    deflate: await measure(decodeDeflate, samples),
  };
}

export function gzipDecodeResults(m: GzipDecodeMeasurement): BenchResult[] {
  const anchor = `decodeInferRequest of the uncompressed binary body (${(m.binaryBytes / 1e6).toFixed(2)} MB), median of ${m.decode.n}`;
  const row = (encoding: 'gzip' | 'deflate', s: LatencySummary, bytes: number): BenchResult => ({
    ...compareWithAnchor({ case: `content-encoding/1M-fp32-binary/${encoding}`, metric: 'median_ms', value: Number(s.p50.toFixed(3)), lower_is_better: true }, anchor, Number(m.decode.p50.toFixed(4))),
    note: `inflateRequestBody (bounded) + decodeInferRequest, median of ${s.n}, p99 ${s.p99.toFixed(2)} ms; body ${(bytes / 1e6).toFixed(2)} MB `
      + `(${((bytes / m.binaryBytes) * 100).toFixed(1)} % of the uncompressed body: uniform random floats barely compress); no target`,
  });
  return [row('gzip', m.gzip, m.gzipBytes), row('deflate', m.deflate, m.deflateBytes)];
}
