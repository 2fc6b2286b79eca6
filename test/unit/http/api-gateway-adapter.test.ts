import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PayloadTooLargeError } from '../../../lib/errors/hotpath-error';
import { fromApiGatewayEvent, toApiGatewayResult } from '../../../lib/http/api-gateway-adapter';
import { decodeInferRequest } from '../../../lib/protocol/infer-request-decoder';

function sampleEvent(name: string): APIGatewayProxyEventV2 {
  return JSON.parse(readFileSync(resolve('events/http', name), 'utf8')) as APIGatewayProxyEventV2;
}

function withBody(body: string, isBase64Encoded: boolean, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const event = sampleEvent('infer-json.json');
  return { ...event, body, isBase64Encoded, headers };
}

function tooLarge(run: () => unknown): PayloadTooLargeError {
  try {
    run();
  } catch (error) {
    if (error instanceof PayloadTooLargeError) return error;
    throw error;
  }
  throw new Error('expected a PayloadTooLargeError, nothing was thrown');
}

describe('api-gateway-adapter', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('fromApiGatewayEvent', () => {
    it('gives method, path, lower-cased headers and the body when given the JSON sample event', () => {
      // Prepare
      const event = sampleEvent('infer-json.json');

      // Act
      const request = fromApiGatewayEvent(event, 6 * 1024 * 1024);

      // Assess
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v2/models/iris-classifier/infer');
      expect(Buffer.from(request.body).toString('utf8')).toBe(event.body);
      expect(decodeInferRequest(request.body, request.headers).inputs[0]!.name).toBe('input');
    });

    it('keeps a plain body as text and encodes its bytes only when they are read', () => {
      // Prepare
      const event = withBody('{"inputs":[]}', false);
      const encode = jest.spyOn(Buffer, 'from');

      // Act
      const request = fromApiGatewayEvent(event, 1024);
      const encodedBeforeRead = encode.mock.calls.length;
      const bytes = request.body;

      // Assess
      expect(request.text).toBe('{"inputs":[]}');
      expect(encodedBeforeRead).toBe(0);
      expect(Buffer.from(bytes).toString('utf8')).toBe('{"inputs":[]}');
      expect(request.body).toBe(bytes);
    });

    it('decodes a base64 body that the request decoder reads as Triton binary when given the binary sample event', () => {
      // Prepare
      const event = sampleEvent('infer-binary.json');

      // Act
      const request = fromApiGatewayEvent(event, 6 * 1024 * 1024);

      // Assess
      expect(request.body.byteLength).toBe(Buffer.from(event.body!, 'base64').byteLength);
      expect(request.headers['inference-header-content-length']).toBe(event.headers['inference-header-content-length']);
      const decoded = decodeInferRequest(request.body, request.headers);
      expect(decoded.inputs[0]!.data).toBeInstanceOf(Float32Array);
    });

    it('lower-cases header names when API Gateway passes them mixed-case', () => {
      // Prepare
      const event = withBody('{}', false, { 'Content-Type': 'application/json', 'Inference-Header-Content-Length': '2', 'X-API-Key': 'k' });

      // Act
      const request = fromApiGatewayEvent(event, 1024);

      // Assess
      expect(request.headers).toEqual({ 'content-type': 'application/json', 'inference-header-content-length': '2', 'x-api-key': 'k' });
    });

    it('gives an empty body and defaults when the event has no body, headers or method', () => {
      // Prepare
      const event = { rawPath: '/v2', requestContext: {} } as unknown as APIGatewayProxyEventV2;

      // Act
      const request = fromApiGatewayEvent(event, 1024);

      // Assess
      expect(request).toEqual({ method: 'GET', path: '/v2', headers: {}, body: new Uint8Array(0) });
    });

    it('takes a body of exactly the limit', () => {
      // Prepare
      const plain = withBody('a'.repeat(1024), false);
      const base64 = withBody(Buffer.alloc(1024, 7).toString('base64'), true);

      // Act
      const sizes = [fromApiGatewayEvent(plain, 1024).body.byteLength, fromApiGatewayEvent(base64, 1024).body.byteLength];

      // Assess
      expect(sizes).toEqual([1024, 1024]);
    });

    it('answers 413 with the size and limit before decoding when a plain body is over the limit', () => {
      // Prepare
      const event = withBody('a'.repeat(1025), false);
      const from = jest.spyOn(Buffer, 'from');

      // Act
      const error = tooLarge(() => fromApiGatewayEvent(event, 1024));

      // Assess
      expect(error.status).toBe(413);
      expect(error.message).toBe(
        'request body is 1025 bytes, over the limit of 1024 bytes; send larger batches to batch scoring or split the request',
      );
      expect(from).not.toHaveBeenCalled();
    });

    it('answers 413 before decoding when a plain body has fewer characters than the limit but more UTF-8 bytes', () => {
      // Prepare: 600 characters, 1,200 UTF-8 bytes.
      const event = withBody('é'.repeat(600), false);
      const from = jest.spyOn(Buffer, 'from');

      // Act
      const error = tooLarge(() => fromApiGatewayEvent(event, 1024));

      // Assess
      expect(error.message.startsWith('request body is 1200 bytes, over the limit of 1024 bytes')).toBe(true);
      expect(from).not.toHaveBeenCalled();
    });

    it('answers 413 with the decoded size before decoding when a base64 body is over the limit', () => {
      // Prepare
      const event = withBody(Buffer.alloc(1025, 1).toString('base64'), true);
      const from = jest.spyOn(Buffer, 'from');

      // Act
      const error = tooLarge(() => fromApiGatewayEvent(event, 1024));

      // Assess
      expect(error.message.startsWith('request body is 1025 bytes, over the limit of 1024 bytes')).toBe(true);
      expect(from).not.toHaveBeenCalled();
    });

    it('takes a base64 body whose character count is over the limit but whose bytes are not', () => {
      // Prepare: 1,024 bytes are 1,368 base64 characters.
      const event = withBody(Buffer.alloc(1024, 2).toString('base64'), true);

      // Act
      const request = fromApiGatewayEvent(event, 1024);

      // Assess
      expect(request.body.byteLength).toBe(1024);
    });

    it('answers 413 from the content-length header before decoding when it declares more than the limit', () => {
      // Prepare
      const event = withBody('{}', false, { 'Content-Length': '5000000' });
      const from = jest.spyOn(Buffer, 'from');

      // Act
      const error = tooLarge(() => fromApiGatewayEvent(event, 1024));

      // Assess
      expect(error.message.startsWith('request body is 5000000 bytes, over the limit of 1024 bytes')).toBe(true);
      expect(from).not.toHaveBeenCalled();
    });
  });

  describe('fromApiGatewayEvent with bytes that arrived as text', () => {
    const header = '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}';
    const binaryBody = (floats: number[]) => Buffer.concat([Buffer.from(header), Buffer.from(Float32Array.from(floats).buffer)]);

    it('gives the bytes back when the binary part survived the UTF-8 decoding (valid UTF-8)', () => {
      // Prepare: all four floats' bytes are ASCII, so the text is exact.
      const bytes = Buffer.concat([Buffer.from(header), Buffer.from('    !!!!####$$$$')]);
      const event = withBody(bytes.toString('utf8'), false, {
        'content-type': 'application/json', 'content-length': String(bytes.byteLength), 'inference-header-content-length': String(header.length),
      });

      // Act
      const request = fromApiGatewayEvent(event, 65_536);

      // Assess
      expect(Buffer.from(request.body)).toEqual(bytes);
      expect(request.text).toBeUndefined();
      expect(decodeInferRequest(request.body, request.headers).inputs[0]!.shape).toEqual([1, 4]);
    });

    it('answers 400 saying to send application/octet-stream when API Gateway altered binary data delivered as text', () => {
      // Prepare: 5.1 as FP32 has bytes 0x33 0x33 0xa3 0x40; 0xa3 alone is not UTF-8 and becomes U+FFFD.
      const bytes = binaryBody([5.1, 3.5, 1.4, 0.2]);
      const event = withBody(bytes.toString('utf8'), false, {
        'content-type': 'application/json', 'content-length': String(bytes.byteLength), 'inference-header-content-length': String(header.length),
      });

      // Act + Assess
      expect(() => fromApiGatewayEvent(event, 65_536)).toThrow(/arrived as text.*send it with Content-Type: application\/octet-stream/);
    });

    it('answers 400 for a gzip body delivered as text, also without a Content-Length to compare', () => {
      // Prepare
      const gz = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
      const event = withBody(gz.toString('utf8'), false, { 'content-type': 'application/json', 'content-encoding': 'gzip' });

      // Act + Assess
      expect(() => fromApiGatewayEvent(event, 65_536)).toThrow(/a gzip-compressed body but arrived as text/);
    });

    it('decodes a base64 binary body with no Content-Type as bytes', () => {
      // Prepare
      const bytes = binaryBody([5.1, 3.5, 1.4, 0.2]);
      const event = withBody(bytes.toString('base64'), true, { 'inference-header-content-length': String(header.length) });

      // Act
      const request = fromApiGatewayEvent(event, 65_536);

      // Assess
      expect(Buffer.from(request.body)).toEqual(bytes);
    });
  });

  describe('toApiGatewayResult', () => {
    it('passes a text body through when the response body is a string', () => {
      // Act
      const result = toApiGatewayResult({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"live":true}' });

      // Assess
      expect(result).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"live":true}', isBase64Encoded: false });
    });

    it('sends a binary body base64-encoded when the response body is a Buffer', () => {
      // Prepare
      const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);

      // Act
      const result = toApiGatewayResult({ status: 200, headers: { 'inference-header-content-length': '2' }, body: bytes });

      // Assess
      expect(result.isBase64Encoded).toBe(true);
      expect(Buffer.from(result.body!, 'base64')).toEqual(bytes);
      expect(result.headers).toEqual({ 'inference-header-content-length': '2' });
    });
  });
});
