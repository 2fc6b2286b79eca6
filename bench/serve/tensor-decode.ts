import { compareWithAnchor, type BenchResult } from '../bench-results';
import { decodeInferRequest } from '../../lib/protocol/infer-request-decoder';
import { encodeInferRequest } from '../../lib/protocol/infer-request-encoder';
import { ms, sampleLatency, summarize, warmUp } from './latency-sampler';
import { seededFloats } from './serve-inputs';

export interface DecodeMeasurement {
  readonly elements: number;
  readonly jsonBytes: number;
  readonly binaryBytes: number;
  readonly json: ReturnType<typeof summarize>;
  readonly binary: ReturnType<typeof summarize>;
  /** Whether the decoded binary tensor is a view on the body (false: the data was unaligned and copied). */
  readonly binaryIsView: boolean;
}

/**
 * decodeInferRequest on prepared bodies of the same FP32 tensor: JSON (UTF-8 decode and
 * JSON.parse included) against Triton's binary extension. Both bodies are bytes, as they
 * arrive from a socket.
 */
export async function measureTensorDecode(elements: number, loopMs: number): Promise<DecodeMeasurement> {
  const tensor = { name: 'input', datatype: 'FP32' as const, shape: [elements / 1000, 1000], data: seededFloats(elements) };
  const json = encodeInferRequest([tensor]);
  const binary = encodeInferRequest([tensor], { binary: true });
  const check = (decoded: ReturnType<typeof decodeInferRequest>) => {
    if ((decoded.inputs[0]!.data as Float32Array).length !== elements) throw new Error('decode returned the wrong element count');
  };
  const decodeJson = () => check(decodeInferRequest(json.body, json.headers));
  const decodeBinary = () => check(decodeInferRequest(binary.body, binary.headers));
  await warmUp(decodeJson, { count: 5, minMs: 0, maxMs: loopMs / 2 });
  const jsonSamples = await sampleLatency(decodeJson, { count: 60, maxMs: loopMs });
  await warmUp(decodeBinary, { count: 200, minMs: 0, maxMs: loopMs / 2 });
  const binarySamples = await sampleLatency(decodeBinary, { count: 2000, maxMs: loopMs });
  return {
    elements,
    jsonBytes: json.body.byteLength,
    binaryBytes: binary.body.byteLength,
    json: summarize(jsonSamples),
    binary: summarize(binarySamples),
    binaryIsView: (decodeInferRequest(binary.body, binary.headers).inputs[0]!.data as Float32Array).buffer === binary.body.buffer,
  };
}

export function decodeResults(m: DecodeMeasurement): BenchResult[] {
  const label = `decode/${m.elements / 1e6}M-fp32`;
  const anchor = `JSON body of the same tensor (${(m.jsonBytes / 1e6).toFixed(1)} MB), decodeInferRequest incl. JSON.parse`;
  const view = m.binaryIsView ? 'a view on the body' : 'copied once (the JSON header leaves the data unaligned for Float32Array)';
  const note = `binary body ${(m.binaryBytes / 1e6).toFixed(1)} MB, decoded tensor ${view}; n=${m.binary.n} binary, ${m.json.n} JSON; target: binary at least 20x faster (ratio <= 0.05)`;
  return [
    { ...compareWithAnchor({ case: `${label}/binary`, metric: 'p50_ms', value: ms(m.binary.p50, 4), lower_is_better: true }, anchor, ms(m.json.p50, 3), 0.05), note },
    compareWithAnchor({ case: `${label}/binary`, metric: 'p99_ms', value: ms(m.binary.p99, 4), lower_is_better: true }, anchor, ms(m.json.p99, 3)),
  ];
}
