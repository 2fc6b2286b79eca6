import { loadServingConfig } from '../../../lib/config/serving-config';
import { ConfigError } from '../../../lib/errors/hotpath-error';

describe('remote routing configuration (HOTPATH_REMOTE_*)', () => {
  it('is off (undefined) unless HOTPATH_REMOTE_URL is set', () => {
    expect(loadServingConfig({}).remote).toBeUndefined();
    expect(loadServingConfig({ HOTPATH_REMOTE_TIMEOUT_MS: 'not read without a URL' }).remote).toBeUndefined();
  });

  it('has documented defaults once a URL is set, the URL without a trailing slash', () => {
    expect(loadServingConfig({ HOTPATH_REMOTE_URL: 'http://gpu-task.internal:8000/' }).remote).toEqual({
      url: 'http://gpu-task.internal:8000', encoding: 'binary', gzip: false, apiKey: undefined, timeoutMs: 5_000,
      breakerFailures: 5, breakerHalfOpenMs: 5_000, fallbackMaxBatch: undefined, calibrate: true,
    });
  });

  it('reads every variable', () => {
    const remote = loadServingConfig({
      HOTPATH_REMOTE_URL: 'https://triton.example:8443/base', HOTPATH_REMOTE_ENCODING: 'json', HOTPATH_REMOTE_GZIP: 'true',
      HOTPATH_REMOTE_API_KEY: 'k', HOTPATH_REMOTE_TIMEOUT_MS: '800', HOTPATH_REMOTE_BREAKER_FAILURES: '3',
      HOTPATH_REMOTE_BREAKER_HALF_OPEN_MS: '2000', HOTPATH_REMOTE_FALLBACK_MAX_BATCH: '32', HOTPATH_REMOTE_CALIBRATE: 'false',
    }).remote;
    expect(remote).toEqual({ url: 'https://triton.example:8443/base', encoding: 'json', gzip: true, apiKey: 'k', timeoutMs: 800, breakerFailures: 3, breakerHalfOpenMs: 2000, fallbackMaxBatch: 32, calibrate: false });
  });

  it.each([
    [{ HOTPATH_REMOTE_URL: 'gpu-task:8000' }, /HOTPATH_REMOTE_URL: 'gpu-task:8000' must be an http/],
    [{ HOTPATH_REMOTE_URL: 'not a url' }, /HOTPATH_REMOTE_URL: 'not a url' is not a URL/],
    [{ HOTPATH_REMOTE_URL: 'http://user:pw@host' }, /without query, fragment or credentials/],
    [{ HOTPATH_REMOTE_URL: 'http://h', HOTPATH_REMOTE_ENCODING: 'protobuf' }, /HOTPATH_REMOTE_ENCODING: 'protobuf' is not one of binary, json/],
    [{ HOTPATH_REMOTE_URL: 'http://h', HOTPATH_REMOTE_TIMEOUT_MS: '0' }, /HOTPATH_REMOTE_TIMEOUT_MS: '0' is not an integer between 1 and 600000/],
    [{ HOTPATH_REMOTE_URL: 'http://h', HOTPATH_REMOTE_BREAKER_FAILURES: '2.5' }, /HOTPATH_REMOTE_BREAKER_FAILURES/],
    [{ HOTPATH_REMOTE_URL: 'http://h', HOTPATH_REMOTE_FALLBACK_MAX_BATCH: '-1' }, /HOTPATH_REMOTE_FALLBACK_MAX_BATCH/],
    [{ HOTPATH_REMOTE_URL: 'http://h', HOTPATH_REMOTE_GZIP: 'yes' }, /HOTPATH_REMOTE_GZIP: 'yes' is not true or false/],
  ])('fails the start naming the variable for %j', (env, message) => {
    expect(() => loadServingConfig(env)).toThrow(ConfigError);
    expect(() => loadServingConfig(env)).toThrow(message);
  });
});
