import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/platform/api-keys.js';
import type { Gateway } from '../../src/server/gateway.js';
import { SentimentDocument } from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis-server.js';

const KEY = 'shared-budget-key-0123456789';

describe('two replicas share one rate-limit budget through a real Redis (REDIS_URL)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let replicas: Gateway[];
  before(async () => {
    redis = await startRedis();
    const env = {
      MODELS: 'sentiment-bert', REDIS_URL: redis.url, RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '200', MAX_QUERY_COMPLEXITY: '200',
      API_KEYS: JSON.stringify([{ name: 'desk', sha256: hashApiKey(KEY), scopes: ['sentiment:read'] }]),
    };
    replicas = await Promise.all([startTestGateway(env), startTestGateway(env)]);
  });
  after(async () => {
    await Promise.all(replicas.map((g) => g.stop()));
    await redis.stop();
  });

  const ask = (gw: Gateway) => gql(gw.url, SentimentDocument, { texts: ['Oil climbs', 'Banks slide', 'Gold flat', 'Yields up', 'Stocks mixed'] }, { authorization: `Bearer ${KEY}` });

  it('a caller alternating between the replicas gets one budget, not one per replica', async () => {
    // Each request costs about 60 units (5 texts x 10, its fields, its query text): 3 fit in 200, not 6.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await ask(replicas[i % 2]!)).status);
    const allowed = statuses.filter((s) => s === 200).length;
    assert.ok(allowed >= 2 && allowed <= 4, `allowed ${allowed} of 8: ${statuses.join(',')}`);
    for (const gw of replicas) {
      const refused = await ask(gw);
      assert.deepEqual(codes(refused), ['RATE_LIMITED']);
      assert.equal(refused.status, 429);
    }
  });

  it('while Redis is down each replica limits on its own, and nothing fails with 500', async () => {
    await redis.stop();
    const statuses = await Promise.all([ask(replicas[0]!), ask(replicas[1]!)].map((p) => p.then((r) => r.status)));
    assert.ok(statuses.every((s) => s === 200 || s === 429), statuses.join(','));
  });
});
