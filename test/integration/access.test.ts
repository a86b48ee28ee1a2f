import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/platform/api-keys.js';
import { loadConfig } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { ModelsDocument, SentimentDocument } from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';

const KEYS = [
  { name: 'newsroom', key: 'newsroom-key-0123456789abcdef', scopes: ['sentiment:read'] },
  { name: 'ops', key: 'ops-key-0123456789abcdef0123', scopes: ['admin'] },
];

describe('API keys, scopes and rate limits over HTTP', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      API_KEYS: JSON.stringify(KEYS.map(({ name, key, scopes }) => ({ name, sha256: hashApiKey(key), scopes }))),
      MAX_QUERY_COMPLEXITY: '100', RATE_LIMIT_BURST: '100', RATE_LIMIT_PER_SECOND: '10',
    });
  });
  after(() => gw.stop());

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  it('without a key, or with an unknown one: UNAUTHENTICATED', async () => {
    assert.deepEqual(codes(await gql(gw.url, SentimentDocument, { texts: ['x'] })), ['UNAUTHENTICATED']);
    const wrong = await gql(gw.url, SentimentDocument, { texts: ['x'] }, bearer('not-a-key'));
    assert.deepEqual(codes(wrong), ['UNAUTHENTICATED']);
    assert.match(wrong.body.errors![0]!.message, /Authorization: Bearer <key> or x-api-key/);
  });

  it('a key with the scope gets its answer (Bearer or x-api-key); without the scope: FORBIDDEN', async () => {
    const ok = await gql(gw.url, SentimentDocument, { texts: ['Stocks rally'] }, bearer(KEYS[0]!.key));
    assert.equal(ok.body.data!.sentiment.length, 1);
    const viaHeader = await gql(gw.url, SentimentDocument, { texts: ['Stocks rally'] }, { 'x-api-key': KEYS[0]!.key });
    assert.equal(viaHeader.body.data!.sentiment.length, 1);
    const forbidden = await gql(gw.url, '{ creditAssessments(accounts: []) { score } }', undefined, bearer(KEYS[0]!.key));
    assert.deepEqual(codes(forbidden), ['FORBIDDEN']);
    assert.match(forbidden.body.errors![0]!.message, /API key newsroom lacks the scope credit:assess/);
    const shadow = await gql(gw.url, 'mutation { setShadowModelVersion(name: "sentiment-bert", version: null) { version } }', undefined, bearer(KEYS[0]!.key));
    assert.deepEqual(codes(shadow), ['FORBIDDEN']);
    assert.match(shadow.body.errors![0]!.message, /lacks the scope admin/);
    const admin = await gql(gw.url, ModelsDocument, {}, bearer(KEYS[1]!.key));
    assert.equal(admin.body.data!.models[0]!.name, 'sentiment-bert');
  });

  it('a caller past its budget gets RATE_LIMITED with HTTP 429 and a retry hint; others are unaffected', async () => {
    // Each text costs 10 units: 9 texts (~95 units with the fields) empty the newsroom's 100-unit bucket.
    const nine = new Array(9).fill('Oil prices climb');
    await gql(gw.url, SentimentDocument, { texts: nine }, bearer(KEYS[0]!.key));
    const limited = await gql(gw.url, SentimentDocument, { texts: nine }, bearer(KEYS[0]!.key));
    assert.deepEqual(codes(limited), ['RATE_LIMITED']);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.ok((limited.body.errors![0]!.extensions!.retryAfterSeconds as number) >= 1);
    const other = await gql(gw.url, SentimentDocument, { texts: ['Gold steady'] }, bearer(KEYS[1]!.key));
    assert.equal(other.body.data!.sentiment.length, 1);
  });
});

describe('open by default, but not for admin, the audit trail or the unwary', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'sentiment-bert', CORS_ORIGINS: 'https://app.example.com' });
  });
  after(() => gw.stop());

  it('with no API keys, reading fields are open; admin mutations and creditDecisions are FORBIDDEN naming the setting', async () => {
    assert.equal((await gql(gw.url, SentimentDocument, { texts: ['Stocks rally'] })).body.data!.sentiment.length, 1);
    for (const query of [
      'mutation { activateModelVersion(name: "sentiment-bert", version: "1.0.0") { version } }',
      'mutation { setShadowModelVersion(name: "sentiment-bert", version: null) { version } }',
      '{ creditDecisions(limit: 1) { accountId } }',
    ]) {
      const res = await gql(gw.url, query);
      assert.deepEqual(codes(res), ['FORBIDDEN'], query);
      assert.match(res.body.errors![0]!.message, /configure API_KEYS, or set ALLOW_OPEN_ADMIN=true/);
    }
  });

  it('CORS: the configured origin may call from a browser, others get no CORS headers; CSRF prevention still holds', async () => {
    const preflight = (origin: string) => fetch(gw.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const allowed = await preflight('https://app.example.com');
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal((await preflight('https://evil.example.net')).headers.get('access-control-allow-origin'), null);
    const simple = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://app.example.com' }, body: '{"query":"{ __typename }"}' });
    assert.equal(simple.status, 400, 'a simple (non-preflighted) request is still refused');
  });
});

describe('INTROSPECTION=false and LANDING_PAGE=sandbox', () => {
  it('without introspection there is no UI and __schema is refused; Sandbox loads from Apollo without telemetry', async () => {
    const closed = await startTestGateway({ MODELS: 'sentiment-bert', INTROSPECTION: 'false' });
    try {
      const res = await gql(closed.url, '{ __schema { types { name } } }');
      assert.deepEqual(codes(res), ['GRAPHQL_VALIDATION_FAILED']);
      assert.match(res.body.errors![0]!.message, /introspection is turned off on this gateway \(INTROSPECTION=false\)/);
      const sdl = await gql(closed.url, '{ _service { sdl } }');
      assert.deepEqual(codes(sdl), ['GRAPHQL_VALIDATION_FAILED'], 'nor the subgraph SDL');
      const page = await fetch(closed.url, { headers: { accept: 'text/html' } });
      assert.doesNotMatch(await page.text(), /GraphiQL/);
    } finally {
      await closed.stop();
    }
    assert.throws(() => loadConfig({ INTROSPECTION: 'false', LANDING_PAGE: 'graphiql' }), /LANDING_PAGE=graphiql needs INTROSPECTION=true/);
    const sandbox = await startTestGateway({ MODELS: 'sentiment-bert', LANDING_PAGE: 'sandbox' });
    try {
      const html = await (await fetch(sandbox.url, { headers: { accept: 'text/html' } })).text();
      assert.match(html, /embeddable-sandbox/);
      assert.match(html, /"runTelemetry":false/);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('TRUST_PROXY_HOPS behind a balancer', () => {
  it('anonymous callers are limited by their X-Forwarded-For address, not the proxy\'s', async () => {
    const gw = await startTestGateway({ MODELS: 'sentiment-bert', TRUST_PROXY_HOPS: '1', RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '100', MAX_QUERY_COMPLEXITY: '100' });
    try {
      const from = (ip: string) => gql(gw.url, SentimentDocument, { texts: new Array(8).fill('Stocks rally') }, { 'x-forwarded-for': ip });
      assert.equal((await from('203.0.113.7')).status, 200);
      assert.equal((await from('203.0.113.7')).status, 429, 'the first client has spent its budget');
      assert.equal((await from('198.51.100.9')).status, 200, 'another client behind the same proxy has its own');
    } finally {
      await gw.stop();
    }
  });
});
