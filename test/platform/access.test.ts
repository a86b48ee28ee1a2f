import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiKeyRing, hashApiKey, hasScope } from '../../src/platform/api-keys.js';
import { loadConfig } from '../../src/platform/config.js';
import { TokenBucketLimiter } from '../../src/platform/rate-limiter.js';

describe('ApiKeyRing', () => {
  const ring = new ApiKeyRing([{ name: 'desk', sha256: hashApiKey('secret-desk-key'), scopes: ['forecast:read'] }]);
  it('finds the caller by Bearer token or x-api-key, never by an unknown key', () => {
    assert.equal(ring.authenticate('Bearer secret-desk-key', undefined)?.name, 'desk');
    assert.equal(ring.authenticate(undefined, 'secret-desk-key')?.name, 'desk');
    assert.equal(ring.authenticate('Bearer nope', undefined), undefined);
    assert.equal(ring.authenticate('Basic secret-desk-key', undefined), undefined);
    assert.equal(ring.open, false);
    assert.equal(new ApiKeyRing([]).open, true);
  });
  it('admin holds every scope', () => {
    assert.ok(hasScope({ name: 'a', scopes: new Set(['admin']) }, 'audit:read'));
    assert.ok(!hasScope({ name: 'b', scopes: new Set(['forecast:read']) }, 'credit:assess'));
  });
});

describe('TokenBucketLimiter', () => {
  it('allows the burst, refuses beyond it with a retry hint, and refills over time', () => {
    let t = 0;
    const limiter = new TokenBucketLimiter(10, 100, () => t);
    assert.ok(limiter.take('a', 60).allowed);
    assert.ok(limiter.take('a', 40).allowed);
    const refused = limiter.take('a', 30);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 3);
    assert.ok(limiter.take('b', 100).allowed, 'buckets are per caller');
    t = 3;
    assert.ok(limiter.take('a', 30).allowed);
  });
});

describe('API_KEYS and rate-limit configuration', () => {
  it('parses hashed keys with scopes and rejects what is malformed', () => {
    const c = loadConfig({ API_KEYS: JSON.stringify([{ name: 'fe', sha256: hashApiKey('k'), scopes: ['sentiment:read'] }]) });
    assert.equal(c.access.apiKeys[0]!.name, 'fe');
    assert.throws(() => loadConfig({ API_KEYS: '[{"name":"fe","sha256":"abc","scopes":["sentiment:read"]}]' }), /sha256: the hex SHA-256/);
    assert.throws(() => loadConfig({ API_KEYS: JSON.stringify([{ name: 'fe', sha256: hashApiKey('k'), scopes: ['root'] }]) }), /API_KEYS: 0\.scopes/);
    assert.throws(() => loadConfig({ API_KEYS: 'nope' }), /API_KEYS must be JSON/);
    assert.throws(() => loadConfig({ RATE_LIMIT_BURST: '100' }), /RATE_LIMIT_BURST \(100\) must be at least MAX_QUERY_COMPLEXITY/);
  });
});
