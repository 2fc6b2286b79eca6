// One cold start, as the Lambda Node.js runtime does INIT: import the handler module (its
// top-level await is INIT), then call the handler once with a sample event. Plain JS, run by
// plain `node` (no tsx, no loader), so nothing but what Lambda runs is measured.
//
// In:  argv[2] the handler module (absolute path), argv[3] a JSON file with the event.
// Out: one line `@@cold {...}` on stdout with the timestamps, the handler's structured log
//      lines (model load phases, init time) and peak RSS; exit code 0 only on a 2xx answer.
const runnerStart = performance.now();
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [handlerPath, eventPath] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventPath, 'utf8'));

// The handler logs JSON lines to stdout (Powertools Logger and EMF); keep them for the parent
// instead of printing, the way CloudWatch would collect them.
const writeStdout = process.stdout.write.bind(process.stdout);
const logLines = [];
process.stdout.write = function captureStdout(chunk, ...rest) {
  logLines.push(...String(chunk).split('\n').filter((l) => l.length > 0));
  const callback = rest.find((r) => typeof r === 'function');
  if (callback) callback();
  return true;
};

const mod = await import(pathToFileURL(handlerPath).href);
const loaded = performance.now();
const context = {
  awsRequestId: 'cold-bench-0001',
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'cold-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:cold-bench',
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '1769',
  logGroupName: '/aws/lambda/cold-bench',
  logStreamName: 'cold-bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 29_000,
  done() {}, fail() {}, succeed() {},
};
const result = await mod.handler(event, context);
const responded = performance.now();
const status = result?.statusCode ?? 0;

writeStdout(`@@cold ${JSON.stringify({
  origin: performance.timeOrigin, runnerStart, loaded, responded, status,
  body: status >= 200 && status < 300 ? undefined : String(result?.body ?? '').slice(0, 500),
  maxRssKb: process.resourceUsage().maxRSS,
  logs: logLines.filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).filter(Boolean),
})}\n`, () => process.exit(status >= 200 && status < 300 ? 0 : 1));
