import type { RateDecision, RateLimiter } from '../platform/rate-limiter.js';

/** Whether documents over MAX_QUERY_COMPLEXITY are refused (`enforce`) or run and counted (`measure`). */
export type DemandControlMode = 'enforce' | 'measure';

/** What a response says of its cost, under `extensions.cost`. */
export interface CostReport {
  /** The operation's estimated complexity; null when it was not estimated (parse or validation failed, too deep, too many fields). */
  readonly estimated: number | null;
  /** Units this operation took from the caller's budget for its complexity (the pre-parse charge of its text is apart). */
  readonly charged: number;
  readonly maxComplexity: number;
  readonly mode: DemandControlMode;
  /** The caller's budget after this request; null when rate limiting is off. */
  readonly budget: {
    readonly remaining: number;
    readonly burst: number;
    readonly perSecond: number;
    readonly resetSeconds: number;
  } | null;
}

/** The budget part of a report, from the limiter's last decision for this caller. */
export function budgetOf(limiter: RateLimiter, decision: RateDecision): NonNullable<CostReport['budget']> {
  return {
    remaining: decision.remaining,
    burst: limiter.burst,
    perSecond: limiter.perSecond,
    // Seconds until the bucket is full again.
    resetSeconds: Math.ceil((limiter.burst - decision.remaining) / limiter.perSecond),
  };
}

/** The report as response headers: `x-cost` and `x-cost-charged`, and the budget as `x-ratelimit-*`. */
export function costHeaders(report: CostReport): Array<[string, string]> {
  const headers: Array<[string, string]> = [['x-cost-charged', String(report.charged)]];
  if (report.estimated !== null) headers.push(['x-cost', String(report.estimated)]);
  if (report.budget) {
    headers.push(
      ['x-ratelimit-limit', String(report.budget.burst)],
      ['x-ratelimit-remaining', String(report.budget.remaining)],
      ['x-ratelimit-reset', String(report.budget.resetSeconds)],
    );
  }
  return headers;
}
