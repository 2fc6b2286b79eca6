import type { FixedAnswer } from './minimal-http-child';
import type { PreparedLoadRequest, ServerWorkload } from './server-workloads';

/** Headers that belong to one connection or one moment, not to the answer the minimal server replays. */
const HOP_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/**
 * Sends a workload's request once and returns the answer; throws unless it is a 200, so a
 * misconfigured server fails the bench before any load instead of measuring error answers.
 */
export async function probeAnswer(baseUrl: string, workload: ServerWorkload, request: PreparedLoadRequest): Promise<FixedAnswer> {
  // fetch would ask for gzip by default; the load generator sends no Accept-Encoding, so neither does the probe.
  const response = await fetch(`${baseUrl}${request.path}`, { method: request.method, headers: { ...request.headers, 'accept-encoding': 'identity' }, body: request.body });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) {
    throw new Error(`${baseUrl}${request.path} (${workload.id}) answered ${response.status}: ${body.toString('utf8').slice(0, 400)}`);
  }
  if (response.headers.has('content-encoding')) throw new Error(`${baseUrl}${request.path} (${workload.id}) answered with content-encoding ${response.headers.get('content-encoding')} to accept-encoding: identity`);
  const kept: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!HOP_HEADERS.has(name)) kept[name] = value;
  });
  return { workload: workload.id, status: response.status, headers: kept, bodyBase64: body.toString('base64') };
}
