import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/platform/api-keys.js';
import type { Gateway } from '../../src/server/gateway.js';
import { CreditDecisionsDocument } from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { weekdaySeries } from '../support/prices.js';

describe('hardening: valid-looking input never gets INTERNAL_SERVER_ERROR, failed requests record nothing', () => {
  let gw: Gateway;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hardening-'));
    gw = await startTestGateway({ AUDIT_DB_PATH: path.join(dir, 'audit.sqlite'), ALLOW_OPEN_ADMIN: 'true' });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (headers: Record<string, string>, body = '{"query":"{ __typename }"}') =>
    fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('a charset other than UTF-8 or an unknown content-encoding: HTTP 400 BAD_REQUEST saying what to send', async () => {
    const cases: Array<Record<string, string>> = [
      { 'content-type': 'application/json; charset=latin1' },
      { 'content-encoding': 'bogus' },
    ];
    for (const headers of cases) {
      const res = await post(headers);
      assert.equal(res.status, 400, JSON.stringify(headers));
      const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      assert.equal(body.errors[0]!.extensions.code, 'BAD_REQUEST');
      assert.match(body.errors[0]!.message, /unsupported (charset|content encoding).*send UTF-8 JSON/);
    }
  });

  it('a persisted-query hash that does not match its query: 400 BAD_REQUEST, not INTERNAL_SERVER_ERROR', async () => {
    const res = await post(
      {},
      JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }),
    );
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    assert.deepEqual(
      body.errors.map((e) => [e.extensions.code, e.message]),
      [['BAD_REQUEST', 'provided sha does not match query']],
    );
  });

  it('a subscription operation: 400 GRAPHQL_VALIDATION_FAILED, not a crash', async () => {
    const res = await gql(gw.url, 'subscription { __typename }');
    assert.equal(res.status, 400);
    assert.deepEqual(codes(res), ['GRAPHQL_VALIDATION_FAILED']);
    assert.match(res.body.errors![0]!.message, /subscriptions are not served/);
  });

  it('creditLimit 1e-300 or a literal 1e400: BAD_USER_INPUT naming the account and showing the value', async () => {
    const tiny = await gql(gw.url, 'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } }', {
      a: [sampleAccount(1), { ...sampleAccount(2), creditLimit: 1e-300 }],
    });
    assert.deepEqual(codes(tiny), ['BAD_USER_INPUT']);
    assert.match(tiny.body.errors![0]!.message, /^accounts\[1\]\.creditLimit: must not be less than 1, got 1e-300/);
    const a = sampleAccount(3);
    const literal = `{ creditAssessment(account: { creditLimit: 1e400, age: ${a.age}, education: UNIVERSITY, repaymentStatus: [0,0,0,0,0,0], billAmounts: [1,1,1,1,1,1], paymentAmounts: [1,1,1,1,1,1] }) { score } }`;
    const infinite = await gql(gw.url, literal);
    assert.deepEqual(codes(infinite), ['BAD_USER_INPUT']);
    assert.match(infinite.body.errors![0]!.message, /creditLimit: must not be greater than 10000000000, got Infinity/);
  });

  it('a series whose last price is 1e300, or that jumps by 250 orders of magnitude: BAD_USER_INPUT', async () => {
    const closes = Array.from({ length: 300 }, (_, i) => 100 * 1.001 ** i);
    const huge = await gql(
      gw.url,
      'query($s:[PricePointInput!]){ marketForecast(input:{series:$s}){ points { mean } } }',
      { s: weekdaySeries([...closes.slice(0, 299), 1e300]) },
    );
    assert.deepEqual(codes(huge), ['BAD_USER_INPUT']);
    assert.match(
      huge.body.errors![0]!.message,
      /input\.series\[299\]\.close must be a positive price up to 1e\+12, got 1e\+300/,
    );
    const jumpy = await gql(
      gw.url,
      'query($s:[PricePointInput!]){ marketForecast(input:{series:$s, horizon: 60}){ points { mean } } }',
      { s: weekdaySeries(closes.map((_, i) => (i % 2 ? 1e-240 : 1e10))) },
    );
    assert.notDeepEqual(codes(jumpy), ['INTERNAL_SERVER_ERROR'], JSON.stringify(jumpy.body).slice(0, 300));
  });

  it('a credit request that fails as a whole (data: null) records none of its decisions; one that answers records them', async () => {
    const good = { ...sampleAccount(5), accountId: 'returned-never' };
    const bad = { ...sampleAccount(6), age: 7 };
    const failed = await gql(
      gw.url,
      'query($g:CardAccountInput!,$b:CardAccountInput!){ g: creditAssessment(account:$g){ score } b: creditAssessment(account:$b){ score } }',
      { g: good, b: bad },
    );
    assert.equal(failed.body.data, null);
    const mixed = await gql(
      gw.url,
      'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } sentiment(texts: [" "]) { label } }',
      { a: [good] },
    );
    assert.equal(mixed.body.data, null);
    const none = await gql(gw.url, CreditDecisionsDocument, { accountId: 'returned-never' });
    assert.deepEqual(none.body.data!.creditDecisions, []);
    const ok = await gql<{ creditAssessments: unknown[] }, unknown>(
      gw.url,
      'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } }',
      { a: [{ ...good, accountId: 'returned-once' }] },
    );
    assert.equal(ok.body.data!.creditAssessments.length, 1);
    assert.equal(
      (await gql(gw.url, CreditDecisionsDocument, { accountId: 'returned-once' })).body.data!.creditDecisions.length,
      1,
    );
  });
});

describe('hardening: what a query returns is charged, and every request pays before it is parsed', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'forecast-qnn', RATE_LIMIT_PER_SECOND: '1000', RATE_LIMIT_BURST: '20000' });
  });
  after(() => gw.stop());

  it('3,000 aliased prices fields: refused at once by the token limit, with a clear error', async () => {
    const query = `{ ${Array.from({ length: 3000 }, (_, i) => `p${i}: prices(symbol: "AAPL") { date }`).join(' ')} }`;
    const started = performance.now();
    const res = await gql(gw.url, query);
    const ms = performance.now() - started;
    assert.deepEqual(codes(res), ['QUERY_TOO_COMPLEX']);
    assert.match(
      res.body.errors![0]!.message,
      /query text must be at most 5000 tokens \(MAX_QUERY_TOKENS\); send large inputs as variables/,
    );
    assert.ok(ms < 1000, `answered in ${Math.round(ms)} ms`);
  });

  it('900 aliased marketForecast(symbol) fields: refused at once, before any GARCH fit', async () => {
    const query = `{ ${Array.from({ length: 900 }, (_, i) => `f${i}: marketForecast(input: { symbol: "AAPL" }) { lastClose }`).join(' ')} }`;
    const started = performance.now();
    const res = await gql(gw.url, query);
    assert.deepEqual(codes(res), ['QUERY_TOO_COMPLEX']);
    assert.ok(performance.now() - started < 1000);
  });

  it('rows are charged by their bound: 30 prices fields of 10,000 rows cost more than the limit', async () => {
    const query = `{ ${Array.from({ length: 30 }, (_, i) => `p${i}: prices(symbol: "AAPL", limit: 10000) { date close }`).join(' ')} }`;
    const res = await gql(gw.url, query);
    assert.deepEqual(codes(res), ['QUERY_TOO_COMPLEX']);
    assert.match(res.body.errors![0]!.message, /query complexity must be at most 20000, got 300\d\d/);
    const one = await gql(gw.url, '{ prices(symbol: "AAPL", limit: 0) { date } }');
    assert.match(one.body.errors![0]!.message, /limit must be 1\.\.10000, got 0/);
  });

  it('a fragment spread many times: QUERY_TOO_COMPLEX by the node limit, not BAD_USER_INPUT', async () => {
    const fields = Array.from({ length: 200 }, (_, i) => `f${i}: __typename`).join(' ');
    const query = `fragment F on Query { ${fields} } { ${Array.from({ length: 100 }, () => '...F').join(' ')} }`;
    const res = await gql(gw.url, query);
    assert.deepEqual(codes(res), ['QUERY_TOO_COMPLEX']);
    assert.match(res.body.errors![0]!.message, /at most 10000 fields, fragments expanded/);
  });
});

describe('hardening: rejected documents still cost their senders', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'forecast-qnn',
      RATE_LIMIT_PER_SECOND: '10',
      RATE_LIMIT_BURST: '200',
      MAX_QUERY_COMPLEXITY: '100',
    });
  });
  after(() => gw.stop());

  it("invalid documents of ~4 kB empty the sender's bucket (HTTP 429 before parsing); another caller is unaffected", async () => {
    const invalid = `{ ${Array.from({ length: 400 }, (_, i) => `f${i}: nope`).join(' ')} }`;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await gql(gw.url, invalid, undefined, { 'x-api-key': 'not-a-key' })).status);
    assert.equal(statuses[0], 400, 'the first ones are validated and refused');
    const limited = await gql(gw.url, invalid);
    assert.equal(limited.status, 429, `statuses ${statuses.join(',')}`);
    assert.deepEqual(codes(limited), ['RATE_LIMITED']);
    assert.match(limited.body.errors![0]!.message, /query text costs \d+ units before parsing/);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  });
});

describe('hardening: overload is refused with 503 and Retry-After, never left to time out', () => {
  const longTexts = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      `Quarterly results of company ${i} beat expectations on strong demand. `.repeat(25),
    );
  const send = (url: string, n: number) =>
    gql(url, 'query($t:[String!]!){ sentiment(texts:$t) { label } }', { t: longTexts(n) });

  it('MAX_CONCURRENT_REQUESTS: requests beyond it get 503 OVERLOADED at once; the admitted ones are answered', async () => {
    const gw = await startTestGateway({ MODELS: 'sentiment-bert', MAX_CONCURRENT_REQUESTS: '3' });
    try {
      const responses = await Promise.all(Array.from({ length: 12 }, () => send(gw.url, 32)));
      const refused = responses.filter((r) => r.status === 503);
      assert.ok(refused.length >= 1 && refused.length <= 9, `${refused.length} of 12 refused`);
      for (const r of refused) {
        assert.deepEqual(codes(r), ['OVERLOADED']);
        assert.equal(r.headers.get('retry-after'), '1');
        assert.match(r.body.errors![0]!.message, /limit of 3 requests in progress \(MAX_CONCURRENT_REQUESTS\)/);
      }
      assert.ok(
        responses
          .filter((r) => r.status === 200)
          .every((r) => (r.body.data as { sentiment: unknown[] }).sentiment.length === 32),
      );
    } finally {
      await gw.stop();
    }
  });

  it('MAX_CONCURRENT_REQUESTS is shared fairly: a caller flooding every slot is refused its excess, a light caller beside it is never refused', async () => {
    const FLOOD = 'flood-key-0123456789abcdef01';
    const LIGHT = 'light-key-0123456789abcdef01';
    const gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      MAX_CONCURRENT_REQUESTS: '4',
      API_KEYS: JSON.stringify([
        { name: 'flood', sha256: hashApiKey(FLOOD), scopes: ['sentiment:read'] },
        { name: 'light', sha256: hashApiKey(LIGHT), scopes: ['sentiment:read'] },
      ]),
    });
    try {
      const flood = (key: string) =>
        gql(
          gw.url,
          'query($t:[String!]!){ sentiment(texts:$t) { label } }',
          { t: longTexts(32) },
          { authorization: `Bearer ${key}` },
        );
      let flooding = true;
      const flooders = Array.from({ length: 12 }, async () => {
        const statuses: number[] = [];
        while (flooding) statuses.push((await flood(FLOOD)).status);
        return statuses;
      });
      const light: number[] = [];
      for (let i = 0; i < 6; i++) {
        light.push(
          (
            await gql(gw.url, '{ sentiment(texts: ["Shares rally"]) { label } }', undefined, {
              authorization: `Bearer ${LIGHT}`,
            })
          ).status,
        );
      }
      flooding = false;
      const floodStatuses = (await Promise.all(flooders)).flat();
      assert.deepEqual(light, [200, 200, 200, 200, 200, 200]);
      assert.ok(floodStatuses.includes(503), `the flooder was never refused: ${floodStatuses.length} requests`);
      assert.ok(floodStatuses.includes(200));
    } finally {
      await gw.stop();
    }
  });

  it('a full model queue: OVERLOADED comes as HTTP 503 with Retry-After', async () => {
    const gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      MODEL_BATCHING: '{"sentiment-bert":{"maxQueue":40}}',
    });
    try {
      const responses = await Promise.all(Array.from({ length: 8 }, () => send(gw.url, 30)));
      const refused = responses.filter((r) => codes(r).includes('OVERLOADED'));
      assert.ok(refused.length >= 1, 'some requests found the queue full');
      for (const r of refused) {
        assert.equal(r.status, 503);
        assert.equal(r.headers.get('retry-after'), '1');
        assert.equal(r.body.errors![0]!.extensions!.retryable, true);
      }
    } finally {
      await gw.stop();
    }
  });
});
