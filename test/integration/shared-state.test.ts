import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../src/platform/config.js';
import { hashApiKey } from '../../src/platform/api-keys.js';
import type { Gateway } from '../../src/server/gateway.js';
import {
  ActivateModelVersionDocument,
  CreditAssessmentsDocument,
  CreditDecisionsDocument,
  ModelByNameDocument,
  SentimentDocument,
} from '../generated/graphql.js';
import { addVersion, modelsFolder } from '../support/model-folders.js';
import { sampleAccount } from '../support/accounts.js';
import { startPostgres } from '../support/postgres-server.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { startRedis } from '../support/redis-server.js';

const KEY = 'shared-budget-key-0123456789';

describe('two replicas share one rate-limit budget through a real Redis (REDIS_URL)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let replicas: Gateway[];
  before(async () => {
    redis = await startRedis();
    const env = {
      MODELS: 'sentiment-bert',
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_SECOND: '1',
      RATE_LIMIT_BURST: '200',
      MAX_QUERY_COMPLEXITY: '200',
      RATE_LIMIT_REPLICAS: '2',
      API_KEYS: JSON.stringify([{ name: 'desk', sha256: hashApiKey(KEY), scopes: ['sentiment:read'] }]),
    };
    replicas = await Promise.all([startTestGateway(env), startTestGateway(env)]);
  });
  after(async () => {
    await Promise.all(replicas.map((g) => g.stop()));
    await redis.stop();
  });

  const ask = (gw: Gateway) =>
    gql(
      gw.url,
      SentimentDocument,
      { texts: ['Oil climbs', 'Banks slide', 'Gold flat', 'Yields up', 'Stocks mixed'] },
      { authorization: `Bearer ${KEY}` },
    );

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

  it('while Redis is down the two replicas together grant at most the budget (each 1/RATE_LIMIT_REPLICAS of it), and nothing fails with 500', async () => {
    await redis.stop();
    // The v2 protocol charges exactly 1 + 10 per text, so the units granted can be counted to the unit.
    const infer = (gw: Gateway) =>
      fetch(`${gw.url.replace('/graphql', '')}/v2/models/sentiment-bert/infer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['Oil climbs'] }] }),
      }).then((r) => r.status);
    const started = performance.now();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push(await infer(replicas[i % 2]!));
    const seconds = (performance.now() - started) / 1000;
    assert.equal(statuses.length, 60);
    assert.deepEqual(
      statuses.filter((s) => s !== 200 && s !== 429),
      [],
    );
    const granted = statuses.filter((s) => s === 200).length * 11;
    const budget = 200 + 1 * seconds; // the burst, and what refills at 1 unit/s meanwhile
    console.log(
      `Redis down: ${granted} units granted across two replicas in ${seconds.toFixed(1)} s, budget ${budget.toFixed(1)}`,
    );
    assert.ok(
      granted <= budget,
      `granted ${granted} units against a budget of ${budget.toFixed(1)}: ${statuses.join(',')}`,
    );
    assert.ok(granted >= 2 * 99 - 11, `each replica grants its own half: ${granted}`);
  });
});

describe('two replicas share one PostgreSQL price store (PRICE_DATABASE_URL) and decision record (AUDIT_DATABASE_URL)', () => {
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  let replicas: Gateway[];
  before(async () => {
    postgres = await startPostgres();
    // The import CLI writes through the same URL (asynchronously: the database runs in this process).
    const imported = await promisify(execFile)(
      process.execPath,
      [
        path.join(REPO_ROOT, 'dist', 'scripts', 'import-prices.js'),
        'DEMO',
        path.join(REPO_ROOT, 'examples', 'data', 'DEMO.csv'),
      ],
      { env: { ...process.env, PRICE_DATABASE_URL: postgres.url }, encoding: 'utf8' },
    );
    assert.match(imported.stdout, /imported 320 rows for DEMO: 320 rows from 2025-09-01 to 2026-11-20 in PostgreSQL/);
    const env = {
      MODELS: 'credit-gbt,forecast-qnn',
      PRICE_DATABASE_URL: postgres.url,
      AUDIT_DATABASE_URL: postgres.url,
      ALLOW_OPEN_ADMIN: 'true',
    };
    replicas = await Promise.all([startTestGateway(env), startTestGateway(env)]);
  });
  after(async () => {
    await Promise.all(replicas.map((g) => g.stop()));
    await postgres.stop();
  });

  it('both replicas see the imported prices and forecast them alike', async () => {
    const query =
      '{ symbols { symbol rows lastDate } marketForecast(input: { symbol: "DEMO", horizon: 3 }) { lastClose method points { median } } }';
    const [a, b] = await Promise.all(
      replicas.map((gw) => gql<{ symbols: unknown[]; marketForecast: unknown }, unknown>(gw.url, query)),
    );
    assert.deepEqual(a!.body.data!.symbols, [{ symbol: 'DEMO', rows: 320, lastDate: '2026-11-20' }]);
    assert.deepEqual(a!.body.data, b!.body.data);
  });

  it('decisions written through both replicas are each on record exactly once', async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, r) =>
        gql(replicas[r % 2]!.url, CreditAssessmentsDocument, {
          accounts: Array.from({ length: 4 }, (_, k) => ({
            ...sampleAccount(r * 4 + k),
            accountId: `replica-${r % 2}-${r}-${k}`,
          })),
        }),
      ),
    );
    for (const gw of replicas) {
      const records = (await gql(gw.url, CreditDecisionsDocument, { limit: 1000 })).body.data!.creditDecisions;
      const ids = records.map((r) => r.accountId!).filter((id) => id.startsWith('replica-'));
      assert.equal(ids.length, 24);
      assert.equal(new Set(ids).size, 24);
      assert.equal(
        new Set(records.map((r) => r.requestId)).size,
        6,
        'one request id per request, unique across replicas',
      );
    }
  });
});

describe('the active model version converges across replicas through Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let replicas: Gateway[];
  let dir: string;
  const env = () => ({ MODELS_DIR: dir, REDIS_URL: redis.url, ALLOW_OPEN_ADMIN: 'true', MODEL_WATCH: 'false' });
  before(async () => {
    redis = await startRedis();
    dir = modelsFolder('sync-', ['credit-gbt']); // 2.1.0 on top, 2.0.0 and the scorecard under versions/
    addVersion(path.join(dir, 'credit-gbt'), '2.1.1');
    replicas = await Promise.all([startTestGateway(env()), startTestGateway(env())]);
  });
  after(async () => {
    await Promise.all(replicas.map((g) => g.stop()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const version = async (gw: Gateway) =>
    (await gql(gw.url, ModelByNameDocument, { name: 'credit-gbt' })).body.data!.model!.version;
  const eventually = async (gw: Gateway, expected: string) => {
    for (let i = 0; i < 50 && (await version(gw)) !== expected; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    return version(gw);
  };

  it('activating a version on one replica activates it on the other, and on a replica started later', async () => {
    const res = await gql(replicas[0]!.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '2.1.1' });
    assert.equal(res.body.data!.activateModelVersion.version, '2.1.1');
    assert.equal(await eventually(replicas[1]!, '2.1.1'), '2.1.1');
    await gql(replicas[1]!.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '2.0.0' });
    assert.equal(await eventually(replicas[0]!, '2.0.0'), '2.0.0');
    const late = await startTestGateway(env());
    replicas.push(late);
    assert.equal(await eventually(late, '2.0.0'), '2.0.0');
  });

  // How fast they converge is a benchmark's figure (bench/redis-outage.bench.ts, target 15 s), not a timed test's.
  it('an activation made while Redis is down is recorded once it returns, and every replica converges on it', async (t) => {
    const port = redis.port;
    await redis.stop();
    const res = await gql(replicas[0]!.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '2.1.1' });
    assert.equal(res.body.data!.activateModelVersion.version, '2.1.1', 'the activation itself does not need Redis');
    assert.ok(
      (await Promise.all(replicas.slice(1).map(version))).every((v) => v !== '2.1.1'),
      'the others cannot know yet',
    );
    redis = await startRedis(port); // empty: nothing was persisted
    const back = performance.now();
    const converged = async () => (await Promise.all(replicas.map(version))).every((v) => v === '2.1.1');
    const deadline = back + 120_000;
    while (performance.now() < deadline && !(await converged()))
      await new Promise((resolve) => setTimeout(resolve, 50));
    const seconds = (performance.now() - back) / 1000;
    assert.deepEqual(
      await Promise.all(replicas.map(version)),
      replicas.map(() => '2.1.1'),
    );
    t.diagnostic(`${replicas.length} replicas on the recorded version ${seconds.toFixed(2)} s after Redis returned`);
  });

  it('a replica started later reports ready only once it serves the recorded version', async () => {
    const late = await startTestGateway(env());
    replicas.push(late);
    const ready = (await (await fetch(late.url.replace('/graphql', '/readyz'))).json()) as {
      status: string;
      capabilities: Array<{ name: string; ready: boolean }>;
    };
    assert.equal(ready.status, 'ready');
    assert.deepEqual(
      ready.capabilities.find((c) => c.name === 'model-versions'),
      { name: 'model-versions', ready: true },
    );
    assert.equal(await version(late), '2.1.1', 'ready means the recorded version already serves');
  });
});
