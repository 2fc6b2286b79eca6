import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createApiHandler } from '../../functions/http/api-handler-factory';
import { loadServingConfig, type ServingConfig } from '../../lib/config/serving-config';
import { createServingRuntime, type ServingRuntime } from '../../lib/serving/serving-runtime';
import { createTelemetry } from '../../lib/telemetry/lambda-telemetry';

/** The real handler chain on the real runtime and models, called in-process (no server). */
export interface InProcessApi {
  readonly runtime: ServingRuntime;
  call(method: string, path: string, options?: { body?: Buffer | string; headers?: Record<string, string> }): Promise<APIGatewayProxyStructuredResultV2>;
  /** `remainingMs`: what the context's getRemainingTimeInMillis answers (default 29 s, the function's timeout). */
  invoke(event: APIGatewayProxyEventV2, remainingMs?: number): Promise<APIGatewayProxyStructuredResultV2>;
}

export async function createInProcessApi(overrides: Partial<ServingConfig> = {}): Promise<InProcessApi> {
  const telemetry = createTelemetry();
  const runtime = await createServingRuntime(loadServingConfig(process.env, { wasmThreads: 1, ...overrides }), telemetry.logger);
  const handler = createApiHandler(runtime, telemetry);
  const invoke = async (event: APIGatewayProxyEventV2, remainingMs = 29_000) => {
    const context = { awsRequestId: 'test-request', functionName: 'hotpath-api', getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
    return (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
  };
  return {
    runtime,
    invoke,
    call(method, path, options = {}) {
      const binary = Buffer.isBuffer(options.body);
      const event = {
        version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '',
        headers: { 'content-type': 'application/json', ...options.headers },
        requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId: 'r', routeKey: '$default', stage: '$default' },
        body: options.body === undefined ? undefined : binary ? (options.body as Buffer).toString('base64') : (options.body as string),
        isBase64Encoded: binary,
      } as unknown as APIGatewayProxyEventV2;
      return invoke(event);
    },
  };
}

/** The body of a result as bytes (binary results arrive base64-encoded). */
export function resultBytes(result: APIGatewayProxyStructuredResultV2): Buffer {
  return result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : Buffer.from(result.body ?? '', 'utf8');
}
