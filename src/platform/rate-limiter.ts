/** Beyond this many callers (e.g. client addresses in open mode), buckets that have refilled are forgotten. */
const MAX_TRACKED_CALLERS = 50_000;

export interface RateDecision {
  readonly allowed: boolean;
  /** Seconds until the request's cost would fit (0 when allowed). */
  readonly retryAfterSeconds: number;
  /** Whole units left in the caller's bucket after this decision (what a caller may still spend now). */
  readonly remaining: number;
}

/** Per-caller budgets of query-complexity units: in this process's memory, or shared through Redis. */
export interface RateLimiter {
  /** Units refilled per second per caller. */
  readonly perSecond: number;
  /** Bucket capacity per caller (units). */
  readonly burst: number;
  /** Takes `cost` units from the caller's budget, if it holds them (0 reads the budget without spending). */
  take(caller: string, cost: number): RateDecision | Promise<RateDecision>;
  close?(): Promise<void>;
}

/**
 * Token buckets per caller: `burst` units of capacity refilled at `perSecond`. A request takes its
 * query complexity in units, so aliases and big lists pay for what they ask of the models.
 */
export class TokenBucketLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {}

  take(caller: string, cost: number): RateDecision {
    const t = this.now();
    if (this.buckets.size > MAX_TRACKED_CALLERS) this.forgetIdle(t);
    const b = this.buckets.get(caller) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * this.perSecond);
    b.at = t;
    this.buckets.set(caller, b);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(b.tokens) };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.ceil((Math.min(cost, this.burst) - b.tokens) / this.perSecond),
      remaining: Math.floor(b.tokens),
    };
  }

  private forgetIdle(t: number): void {
    for (const [caller, b] of this.buckets) {
      if (b.tokens + (t - b.at) * this.perSecond >= this.burst) this.buckets.delete(caller);
    }
  }
}
