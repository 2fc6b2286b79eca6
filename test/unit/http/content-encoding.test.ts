import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { chooseResponseEncoding, compressBody, inflateRequestBody } from '../../../lib/http/content-encoding';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedContentEncodingError } from '../../../lib/errors/hotpath-error';

const text = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] }));

describe('inflateRequestBody', () => {
  it('returns the body as it is without Content-Encoding or with identity', () => {
    expect(inflateRequestBody(text, undefined, 1024)).toBe(text);
    expect(inflateRequestBody(text, ' Identity ', 1024)).toBe(text);
  });

  it('inflates gzip, zlib deflate (as Python zlib.compress writes it) and raw deflate', () => {
    expect(Buffer.from(inflateRequestBody(gzipSync(text), 'gzip', 1024))).toEqual(text);
    expect(Buffer.from(inflateRequestBody(gzipSync(text), 'x-gzip', 1024))).toEqual(text);
    expect(Buffer.from(inflateRequestBody(deflateSync(text), 'DEFLATE', 1024))).toEqual(text);
    expect(Buffer.from(inflateRequestBody(deflateRawSync(text), 'deflate', 1024))).toEqual(text);
  });

  it('stops at the inflated limit with a 413 when a small body inflates past it', () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(32 * 1024);
    const attempt = () => inflateRequestBody(bomb, 'gzip', 65_536);
    expect(attempt).toThrow(PayloadTooLargeError);
    expect(attempt).toThrow(/inflates \(Content-Encoding: gzip\) past the limit of 65536 bytes/);
  });

  it('takes a body of exactly the limit', () => {
    const exact = Buffer.alloc(4096, 7);
    expect(inflateRequestBody(gzipSync(exact), 'gzip', 4096).byteLength).toBe(4096);
  });

  it('answers 400 for data that is not what the header says, 415 for an unknown encoding', () => {
    expect(() => inflateRequestBody(text, 'gzip', 1024)).toThrow(InvalidRequestError);
    expect(() => inflateRequestBody(text, 'gzip', 1024)).toThrow(/not valid gzip data/);
    expect(() => inflateRequestBody(gzipSync(text).subarray(0, 20), 'gzip', 1024)).toThrow(InvalidRequestError);
    expect(() => inflateRequestBody(text, 'br', 1024)).toThrow(UnsupportedContentEncodingError);
    expect(() => inflateRequestBody(text, 'gzip, deflate', 1024)).toThrow(/'gzip, deflate' is not supported/);
  });
});

describe('chooseResponseEncoding', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['gzip', 'gzip'],
    ['deflate', 'deflate'],
    ['gzip, deflate', 'gzip'],
    ['deflate, gzip', 'gzip'],
    ['deflate;q=1, gzip;q=0.5', 'deflate'],
    ['gzip;q=0', undefined],
    ['gzip;q=0, deflate', 'deflate'],
    ['*', 'gzip'],
    ['*;q=0', undefined],
    ['br', undefined],
    ['identity', undefined],
    ['x-gzip', 'gzip'],
    ['GZIP ; Q=0.8', 'gzip'],
    ['gzip;q=abc', undefined],
  ])('picks %p → %p', (header, expected) => {
    expect(chooseResponseEncoding(header)).toBe(expected);
  });
});

describe('compressBody', () => {
  it('writes gzip and zlib deflate that inflate back to the body', () => {
    expect(gunzipSync(compressBody(text, 'gzip'))).toEqual(text);
    expect(inflateSync(compressBody(text, 'deflate'))).toEqual(text);
  });
});
