/**
 * HTTP's limit on this machine: a node:http server that reads the whole request, parses its
 * JSON (the whole body, or the binary request's JSON header) and answers a fixed body, the
 * bytes the real server answered for the same request. Answers are read from the JSON file
 * named by `--answers` and picked by the `x-bench-workload` request header.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { exitWithParent, reportReady } from './bench-children';

/** What the real server answered for one workload, as the minimal server replays it. */
export interface FixedAnswer {
  readonly workload: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bodyBase64: string;
}

interface ReadyAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function loadAnswers(path: string): Map<string, ReadyAnswer> {
  const answers = JSON.parse(readFileSync(path, 'utf8')) as FixedAnswer[];
  return new Map(answers.map((a) => {
    const body = Buffer.from(a.bodyBase64, 'base64');
    return [a.workload, { status: a.status, headers: { ...a.headers, 'content-length': String(body.byteLength) }, body }];
  }));
}

/** The request's JSON: all of it, or the first `inference-header-content-length` bytes of a binary request. */
function parseRequestJson(body: Buffer, headerLength: string | undefined): unknown {
  const json = headerLength === undefined ? body : body.subarray(0, Number(headerLength));
  return JSON.parse(json.toString('utf8'));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { answers: { type: 'string' } }, strict: true });
  if (values.answers === undefined) throw new Error('--answers <file> is required');
  const answers = loadAnswers(values.answers);
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = answers.get(String(req.headers['x-bench-workload']));
      let parsed: unknown;
      try {
        parsed = parseRequestJson(Buffer.concat(chunks), req.headers['inference-header-content-length'] as string | undefined);
      } catch {
        parsed = undefined;
      }
      if (answer === undefined || typeof parsed !== 'object' || parsed === null) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"unknown x-bench-workload or a body that is not JSON"}');
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  exitWithParent(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  reportReady(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

main().catch((error: unknown) => {
  console.error(`minimal-http-child: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
