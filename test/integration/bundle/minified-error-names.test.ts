/**
 * The Lambda bundle is minified; the names of the error family must survive it, because they
 * are what the logs show (`"name":"ModelVerificationError"`). Runs on the bundle `npm test`
 * builds (`npm run build:functions`).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

describe('api-handler bundle', () => {
  it('keeps the error family\'s class names when minified', () => {
    // Prepare: keepNames writes each class's name into the bundle as a string literal; without it they are mangled.
    const script = `
      const source = require('node:fs').readFileSync(${JSON.stringify(resolve('dist/functions/http/api-handler.mjs'))}, 'utf8');
      const names = ['InvalidRequestError', 'ModelVerificationError', 'PayloadTooLargeError', 'DeadlineExceededError', 'ServerBusyError', 'KernelThreadPoolError'];
      console.log(JSON.stringify(names.filter((n) => !source.includes(JSON.stringify(n)))));
    `;

    // Act
    const missing = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];

    // Assess
    expect(missing).toEqual([]);
  });
});
