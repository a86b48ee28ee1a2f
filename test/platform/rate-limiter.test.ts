import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucketLimiter } from '../../src/platform/rate-limiter.js';

describe('TokenBucketLimiter: the remaining budget', () => {
  it('each decision says the whole units left; a refusal and a take of 0 spend nothing; refill shows', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(10, 100, () => now);
    assert.deepEqual(limiter.take('a', 30), { allowed: true, retryAfterSeconds: 0, remaining: 70 });
    assert.deepEqual(limiter.take('a', 80), { allowed: false, retryAfterSeconds: 1, remaining: 70 });
    assert.equal(limiter.take('a', 0).remaining, 70);
    now = 1.55; // 15.5 units back
    assert.equal(limiter.take('a', 0).remaining, 85);
    assert.equal(limiter.take('b', 0).remaining, 100, 'a new caller starts full');
    assert.equal(limiter.burst, 100);
  });
});
