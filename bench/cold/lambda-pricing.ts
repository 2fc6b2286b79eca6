/**
 * AWS Lambda on-demand prices, us-east-1, first pricing tier (the first 6 billion GB-seconds
 * a month on x86_64, 7.5 billion on arm64), as published at https://aws.amazon.com/lambda/pricing/.
 * Recorded 2026-11-26 from the published figures (these have not changed since arm64's launch
 * in 2021); not re-fetched by this script, which has no network access. Other regions and tiers
 * differ: pass your own to `costPerMillion`.
 */
export const LAMBDA_PRICES_US_EAST_1 = {
  source: 'https://aws.amazon.com/lambda/pricing/ (us-east-1, tier 1), recorded 2026-11-26',
  usdPerGbSecond: { x86_64: 0.0000166667, arm64: 0.0000133334 },
  usdPerMillionRequests: 0.2,
} as const;

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
