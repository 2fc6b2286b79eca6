// Imports the built handler bundle (INIT), answers one request, and prints which onnxruntime
// modules the process loaded: `@@modules {"status", "route", "onnxruntimeWeb", "onnxruntimeNode"}`.
// In: argv[2] the bundle (absolute path), argv[3] the event JSON file. Plain node, as Lambda runs it.
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventPath] = process.argv.slice(2);
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  const callback = rest.find((r) => typeof r === 'function');
  if (callback) callback();
  return true;
};
const { handler } = await import(pathToFileURL(bundle).href);
const result = await handler(JSON.parse(readFileSync(eventPath, 'utf8')), { awsRequestId: 'kernel-only', getRemainingTimeInMillis: () => 29_000 });
const loaded = Object.keys(Module._cache);
writeStdout(`@@modules ${JSON.stringify({
  status: result.statusCode,
  route: result.headers?.['x-hotpath-route'],
  onnxruntimeWeb: loaded.some((path) => path.includes('onnxruntime-web')),
  onnxruntimeNode: loaded.some((path) => path.includes('onnxruntime-node')),
})}\n`, () => process.exit(0));
