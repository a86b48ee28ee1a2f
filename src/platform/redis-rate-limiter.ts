import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { TokenBucketLimiter, type RateDecision, type RateLimiter } from './rate-limiter.js';

/**
 * One token bucket per caller in Redis, updated atomically by a script on Redis's own clock: `burst` units of
 * capacity refilled continuously at `perSecond`, as the in-memory limiter and the documentation say. A refused
 * request takes nothing. Buckets expire once they would be full again.
 */
const TAKE = `
local now = redis.call('TIME')
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
local capacity, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, at = capacity, ms end
tokens = math.min(capacity, tokens + math.max(0, ms - at) * rate / 1000)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', ms)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return { allowed, tostring(tokens) }
`;

type TakeCommand = (key: string, capacity: number, rate: number, cost: number) => Promise<[number, string]>;

/**
 * Rate limits shared by every gateway replica through Redis. While Redis cannot be reached each replica limits on
 * its own with a bucket of 1/`replicas` of the budget (RATE_LIMIT_REPLICAS), so the replicas together grant at most
 * the documented budget; it logs once when it falls back and once when Redis answers again.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly client: Redis & { rateTake: TakeCommand };
  private readonly fallback: TokenBucketLimiter;
  private degraded = false;

  constructor(
    url: string,
    readonly perSecond: number,
    readonly burst: number,
    replicas = 1,
    private readonly logger?: Logger,
  ) {
    // No offline queue: while disconnected a command fails at once and the fallback answers.
    const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    client.on('error', () => undefined); // reconnects by itself; the fallback covers the gap
    client.defineCommand('rateTake', { numberOfKeys: 1, lua: TAKE });
    this.client = client as Redis & { rateTake: TakeCommand };
    this.fallback = new TokenBucketLimiter(perSecond / replicas, burst / replicas);
  }

  /** Resolves once the connection to Redis is up (requests before that use the fallback), or after `timeoutMs`. */
  async connected(timeoutMs = 2000): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async take(caller: string, cost: number): Promise<RateDecision> {
    let result: [number, string];
    try {
      result = await this.client.rateTake(`fin-intel-gateway:bucket:${caller}`, this.burst, this.perSecond, cost);
    } catch (error) {
      if (!this.degraded) {
        this.degraded = true;
        this.logger?.warn(
          { reason: (error as Error).message },
          'rate limits: Redis unreachable, this replica limits on its own share of the budget',
        );
      }
      return this.fallback.take(caller, cost);
    }
    if (this.degraded) {
      this.degraded = false;
      this.logger?.info('rate limits: Redis answers again, budgets are shared');
    }
    const [allowed, tokens] = result;
    const remaining = Math.floor(Number(tokens));
    if (allowed === 1) return { allowed: true, retryAfterSeconds: 0, remaining };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((Math.min(cost, this.burst) - Number(tokens)) / this.perSecond)),
      remaining,
    };
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
