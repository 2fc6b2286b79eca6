import { LAMBDA_PRICES } from '../../lib/serving/route-cost';

/** AWS Lambda's on-demand prices (us-east-1, first tier), the ones the router's cost per route uses: lib/serving/route-cost.ts. Other regions and tiers differ: pass your own to `costPerMillion`. */
export const LAMBDA_PRICES_US_EAST_1 = LAMBDA_PRICES;

export type LambdaArchitecture = keyof typeof LAMBDA_PRICES_US_EAST_1.usdPerGbSecond;

/**
 * Lambda's price formula: billed duration (ms, rounded up to 1 ms by Lambda) × memory (GB,
 * MB / 1024) × the GB-second price, plus the request price; for one million invocations.
 * Since 2025-08-01 the INIT phase of on-demand ZIP functions is billed too, so a cold
 * invocation's Billed Duration (as REPORT states it) already includes INIT.
 *
 * @example costPerMillion(6, 1769, 'arm64') // ≈ 0.338 USD
 */
export function costPerMillion(billedDurationMs: number, memoryMb: number, architecture: LambdaArchitecture, prices = LAMBDA_PRICES_US_EAST_1): number {
  const gbSeconds = (Math.ceil(billedDurationMs) / 1000) * (memoryMb / 1024);
  return 1_000_000 * gbSeconds * prices.usdPerGbSecond[architecture] + prices.usdPerMillionRequests;
}
