import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisRateLimiter } from '../../src/platform/redis-rate-limiter.js';
import { startRedis } from '../support/redis-server.js';

describe('RedisRateLimiter: a token bucket in a real Redis, as documented', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('a refused request takes nothing from the budget', async () => {
    const limiter = new RedisRateLimiter(redis.url, 0.001, 100);
    assert.equal(await limiter.connected(), true);
    try {
      assert.equal((await limiter.take('a', 60)).allowed, true);
      const refused = await limiter.take('a', 50);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterSeconds > 0);
      assert.ok(Math.abs(Number(await client.hget('fin-intel-gateway:bucket:a', 'tokens')) - 40) < 0.01);
      assert.equal(
        (await limiter.take('a', 40)).allowed,
        true,
        'the 40 units the refusal did not take are still there',
      );
    } finally {
      await limiter.close();
    }
  });

  it('each decision says what is left in the shared bucket; a take of 0 reads it without spending', async () => {
    const limiter = new RedisRateLimiter(redis.url, 0.001, 100);
    const other = new RedisRateLimiter(redis.url, 0.001, 100);
    assert.deepEqual(await Promise.all([limiter.connected(), other.connected()]), [true, true]);
    try {
      assert.deepEqual(await limiter.take('r', 30), { allowed: true, retryAfterSeconds: 0, remaining: 70 });
      assert.equal((await other.take('r', 25)).remaining, 45, 'another replica sees the same bucket');
      const refused = await limiter.take('r', 50);
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 45);
      assert.equal((await other.take('r', 0)).remaining, 45);
      assert.equal((await limiter.take('r', 0)).remaining, 45, 'reading took nothing');
    } finally {
      await Promise.all([limiter.close(), other.close()]);
    }
  });

  it('the budget refills continuously at perSecond, not once per window of burst / perSecond', async () => {
    // A fixed window here would be 1,000 / 100 = 10 s long; a bucket has 5 units back within about 50 ms.
    const limiter = new RedisRateLimiter(redis.url, 100, 1000);
    assert.equal(await limiter.connected(), true);
    try {
      assert.equal((await limiter.take('b', 1000)).allowed, true);
      const started = Date.now();
      let allowed = false;
      while (!allowed && Date.now() - started < 5000) {
        allowed = (await limiter.take('b', 5)).allowed;
        if (!allowed) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(allowed, true);
      assert.ok(Date.now() - started < 5000);
    } finally {
      await limiter.close();
    }
  });

  it('replicas share one budget, and with Redis down each takes 1/N of it, so together they grant at most the budget', async () => {
    const url = redis.url;
    const replicas = [new RedisRateLimiter(url, 0.001, 100, 2), new RedisRateLimiter(url, 0.001, 100, 2)];
    assert.deepEqual(await Promise.all(replicas.map((r) => r.connected())), [true, true]);
    try {
      const shared = [];
      for (let i = 0; i < 6; i++) shared.push((await replicas[i % 2]!.take('c', 30)).allowed);
      assert.equal(shared.filter(Boolean).length, 3, 'three of 30 fit in one shared 100');
      await redis.stop();
      const alone = [];
      for (let i = 0; i < 8; i++) alone.push((await replicas[i % 2]!.take('d', 30)).allowed);
      assert.equal(alone.filter(Boolean).length, 2, "one of 30 fits in each replica's 50");
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      redis = await startRedis();
      client.disconnect();
      client = new Redis(redis.url);
    }
  });
});
