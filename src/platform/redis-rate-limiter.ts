import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter } from './rate-limiter.js';

/**
 * Rate limits shared by every gateway replica through Redis (rate-limiter-flexible's atomic Lua
 * script): `burst` units per window of burst / perSecond seconds per caller, the same long-run rate
 * and largest burst as the in-memory token buckets. While Redis cannot be reached, each replica falls
 * back to the same limits in its own memory (rate-limiter-flexible's insurance limiter) instead of
 * failing requests.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly client: Redis;
  private readonly limiter: RateLimiterRedis;

  constructor(url: string, readonly perSecond: number, readonly burst: number) {
    // No offline queue: while disconnected a command fails at once and the insurance limiter answers.
    this.client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    this.client.on('error', () => undefined); // reconnects by itself; the insurance limiter covers the gap
    const duration = Math.max(1, Math.round(burst / perSecond));
    this.limiter = new RateLimiterRedis({
      storeClient: this.client, keyPrefix: 'fin-intel-gateway:rate', points: burst, duration, rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'fin-intel-gateway:rate', points: burst, duration }),
    });
  }

  async take(caller: string, cost: number): Promise<RateDecision> {
    try {
      await this.limiter.consume(caller, cost);
      return { allowed: true, retryAfterSeconds: 0 };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
      throw rejection;
    }
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
