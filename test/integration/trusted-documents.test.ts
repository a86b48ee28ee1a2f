import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { stripIgnoredCharacters } from 'graphql';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/platform/api-keys.js';
import { REPO_ROOT } from '../../src/platform/config.js';
import { readExamples } from '../../src/server/examples.js';
import type { Gateway } from '../../src/server/gateway.js';
import { documentHash, TrustedDocuments } from '../../src/server/trusted-documents.js';
import { publishTrustedDocuments } from '../../src/server/trusted-document-source.js';
import { startTestGateway, type GraphQLResponse } from '../support/gateway.js';
import { startPostgres } from '../support/postgres-server.js';
import { startRedis } from '../support/redis-server.js';

const MANIFEST = path.join(REPO_ROOT, 'examples', 'trusted-documents.json');
const KEYS = [
  {
    name: 'partner',
    key: 'partner-key-0123456789abcdef',
    scopes: ['sentiment:read', 'credit:assess', 'forecast:read'],
  },
  { name: 'analyst', key: 'analyst-key-0123456789abcdef', scopes: ['sentiment:read', 'explore'] },
];
const partner = { authorization: `Bearer ${KEYS[0]!.key}` };
const analyst = { authorization: `Bearer ${KEYS[1]!.key}` };
type Body = GraphQLResponse<Record<string, unknown>>['body'];

/** POST a raw GraphQL-over-HTTP body (persisted-query extensions and all); gzip sends it through Express's body parser. */
async function post(url: string, body: unknown, headers: Record<string, string> = {}, gzip = false) {
  const text = JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...headers },
    body: gzip ? gzipSync(text) : text,
  });
  return { status: res.status, body: (await res.json()) as Body };
}

/** GET /graphql with the parameters as GraphQL over HTTP has them (served by Express). */
async function get(url: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const search = new URLSearchParams(
    Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
  const res = await fetch(`${url}?${search}`, { headers: { 'apollo-require-preflight': 'true', ...headers } });
  return { status: res.status, body: (await res.json()) as Body };
}

const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const errorCodes = (body: Body) => (body.errors ?? []).map((e) => e.extensions?.code);

describe('trusted documents (TRUSTED_DOCUMENTS=on) over real HTTP', () => {
  let gw: Gateway;
  const documents = TrustedDocuments.read(MANIFEST);
  const examples = readExamples(path.join(REPO_ROOT, 'examples'));
  before(async () => {
    gw = await startTestGateway({
      TRUSTED_DOCUMENTS: 'on',
      TRUSTED_DOCUMENTS_FILE: MANIFEST,
      API_KEYS: JSON.stringify(KEYS.map(({ name, key, scopes }) => ({ name, sha256: hashApiKey(key), scopes }))),
    });
  });
  after(() => gw.stop());

  it('the committed manifest is what npm run trusted-documents writes for examples/', async () => {
    const out = path.join((await import('node:os')).tmpdir(), `trusted-documents-${process.pid}.json`);
    await promisify(execFile)(process.execPath, [
      path.join(REPO_ROOT, 'dist', 'scripts', 'trusted-documents.js'),
      '--out',
      out,
    ]);
    assert.deepEqual(TrustedDocuments.read(out).operations, documents.operations);
    assert.equal(documents.operations.length, examples.length, 'one operation per example file');
  });

  it('npm run examples: every examples/ operation answers, sent as its file text', async () => {
    const run = await promisify(execFile)(
      process.execPath,
      [path.join(REPO_ROOT, 'dist', 'scripts', 'run-examples.js'), gw.url],
      { encoding: 'utf8', env: { ...process.env, EXAMPLES_API_KEY: KEYS[0]!.key } },
    );
    assert.match(run.stdout, new RegExp(`examples: ${examples.length} answered, 0 failed`));
  });

  it('every registered operation answers by its hash alone: POST (direct path), POST through Express, and GET', async () => {
    let answered = 0;
    let expected = 0;
    for (const example of examples) {
      const operation = documents.operations.find(
        (o) => stripIgnoredCharacters(o.body) === stripIgnoredCharacters(example.query),
      );
      assert.ok(operation, `${example.name} is in the manifest`);
      const variables = JSON.parse(example.variables) as Record<string, unknown>;
      const byHash = { extensions: persisted(operation.id), variables };
      // A URL is read with the headers (16 KiB at most): the forecast's long series goes by POST only.
      const paths = [
        post(gw.url, byHash, partner),
        post(gw.url, byHash, partner, true),
        ...(example.variables.length < 4000 ? [get(gw.url, byHash, partner)] : []),
      ];
      expected += paths.length;
      for (const res of await Promise.all(paths)) {
        assert.equal(res.status, 200, `${operation.name}: ${JSON.stringify(res.body.errors)}`);
        assert.deepEqual(res.body.errors, undefined, operation.name);
        assert.ok(Object.keys(res.body.data ?? {}).length > 0, operation.name);
        answered++;
      }
    }
    assert.equal(answered, expected);
    assert.equal(expected, examples.length * 3 - 1);
  });

  it('a registered operation answers with other whitespace and comments, or with its hash and exact text', async () => {
    const sentiment = documents.operations.find((o) => o.name === 'Sentiment')!;
    const variables = { texts: ['Stocks rally'] };
    const reformatted = `# reformatted\n${sentiment.body.replace(/\n\s*/g, ' ,  ')}`;
    assert.notEqual(documentHash(reformatted), sentiment.id);
    for (const body of [
      { query: reformatted, variables },
      { query: sentiment.body, variables, extensions: persisted(sentiment.id) },
    ]) {
      const res = await post(gw.url, body, partner);
      assert.equal(
        (res.body.data as { sentiment: unknown[] } | undefined)?.sentiment.length,
        1,
        JSON.stringify(res.body.errors),
      );
    }
  });

  it('any other document is refused with a stable code and a clear message, before it is parsed, on every path', async () => {
    const sentiment = documents.operations.find((o) => o.name === 'Sentiment')!;
    const others = [
      '{ __typename }',
      '{ __schema { types { name } } }',
      'query { sentiment(texts: ["x"]) { label } }',
      sentiment.body.replace('label', 'label score'),
      sentiment.body.replace('query Sentiment', 'query Renamed'),
      `${sentiment.body}\nquery Second { models { name } }`,
      'mutation { activateModelVersion(name: "sentiment-bert", version: "1.0.0") { version } }',
      'query {',
      `{ sentiment(texts: ["${'x'.repeat(70_000)}"]) { label } }`,
      ...documents.operations.map((o) => `${o.body} # ${'padding '.repeat(10_000)}`),
    ];
    let refused = 0;
    let expected = 0;
    for (const query of others) {
      // A URL is read with the headers (16 KiB at most): long documents go by POST only.
      const paths = [
        post(gw.url, { query }, partner),
        post(gw.url, { query }, partner, true),
        ...(query.length < 4000 ? [get(gw.url, { query }, partner)] : []),
      ];
      expected += paths.length;
      for (const res of await Promise.all(paths)) {
        assert.equal(res.status, 400, query.slice(0, 60));
        assert.deepEqual(errorCodes(res.body), ['OPERATION_NOT_ALLOWED'], query.slice(0, 60));
        assert.match(
          res.body.errors![0]!.message,
          /runs registered operations only \(TRUSTED_DOCUMENTS=on, 6 in its manifest\): the document sent \(sha256 [0-9a-f]{64}\) is not one of them/,
        );
        refused++;
      }
    }
    assert.equal(refused, expected);
    assert.ok(expected >= others.length * 2 + 8);
    // The refusal comes before GraphQL: a document that does not even parse gets it, not GRAPHQL_PARSE_FAILED.
    const unknownHash = documentHash('{ __typename }');
    for (const res of [
      await post(gw.url, { extensions: persisted(unknownHash) }, partner),
      await get(gw.url, { extensions: persisted(unknownHash) }, partner),
    ]) {
      assert.deepEqual(errorCodes(res.body), ['PERSISTED_QUERY_NOT_FOUND']);
      assert.match(res.body.errors![0]!.message, new RegExp(`no trusted document has the hash ${unknownHash}`));
    }
    const swapped = await post(gw.url, { query: '{ __typename }', extensions: persisted(sentiment.id) }, partner);
    assert.deepEqual(
      errorCodes(swapped.body),
      ['OPERATION_NOT_ALLOWED'],
      'a registered hash does not carry another text',
    );
    assert.match(swapped.body.errors![0]!.message, /is not the registered text of Sentiment; send the hash alone/);
    // A repeated GET parameter: Apollo reads the first, and so does the check.
    const sentimentQuery = encodeURIComponent(sentiment.body);
    for (const search of [
      `query=${encodeURIComponent('{ __typename }')}&query=${sentimentQuery}`,
      `query=${encodeURIComponent('{ __typename }')}&extensions=${encodeURIComponent(JSON.stringify(persisted(sentiment.id)))}&extensions=x`,
    ]) {
      const res = await fetch(`${gw.url}?${search}`, { headers: { 'apollo-require-preflight': 'true', ...partner } });
      assert.deepEqual(errorCodes((await res.json()) as Body), ['OPERATION_NOT_ALLOWED'], search.slice(0, 60));
    }
    const repeatedHash = await fetch(
      `${gw.url}?extensions=${encodeURIComponent(JSON.stringify(persisted(unknownHash)))}&extensions=${encodeURIComponent(JSON.stringify(persisted(sentiment.id)))}`,
      { headers: { 'apollo-require-preflight': 'true', ...partner } },
    );
    assert.deepEqual(errorCodes((await repeatedHash.json()) as Body), ['PERSISTED_QUERY_NOT_FOUND']);
    const anonymous = await post(gw.url, { query: '{ __typename }' });
    assert.deepEqual(errorCodes(anonymous.body), ['OPERATION_NOT_ALLOWED'], 'anonymous callers too');
  });

  it('a caller with the scope explore may send free-form documents and register them by APQ', async () => {
    const query = '{ sentiment(texts: ["Gold steady"]) { label } }';
    const free = await post(gw.url, { query }, analyst);
    assert.equal((free.body.data as { sentiment: unknown[] }).sentiment.length, 1);
    const fresh = '{ sentiment(texts: ["Oil slips"]) { label score } }';
    const hash = documentHash(fresh);
    assert.deepEqual(
      errorCodes((await post(gw.url, { extensions: persisted(hash) }, analyst)).body),
      ['PERSISTED_QUERY_NOT_FOUND'],
      'APQ: not yet registered',
    );
    assert.deepEqual(
      (await post(gw.url, { query: fresh, extensions: persisted(hash) }, analyst)).body.errors,
      undefined,
    );
    assert.equal(
      ((await post(gw.url, { extensions: persisted(hash) }, analyst)).body.data as { sentiment: unknown[] }).sentiment
        .length,
      1,
      'APQ: registered',
    );
    assert.deepEqual(
      errorCodes((await post(gw.url, { extensions: persisted(hash) }, partner)).body),
      ['PERSISTED_QUERY_NOT_FOUND'],
      'but not for callers without explore',
    );
  });
});

describe('automatic persisted queries shared through Redis (REDIS_URL)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: Gateway;
  let b: Gateway;
  before(async () => {
    redis = await startRedis();
    const env = { MODELS: 'sentiment-bert', REDIS_URL: redis.url };
    [a, b] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  });

  it('a document registered on one replica is found by hash on the other; with Redis down APQ still answers', async () => {
    const query = '{ models { name } }';
    const hash = documentHash(query);
    assert.deepEqual(errorCodes((await post(b.url, { extensions: persisted(hash) })).body), [
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
    assert.deepEqual((await post(a.url, { query, extensions: persisted(hash) })).body.errors, undefined);
    const shared = await post(b.url, { extensions: persisted(hash) });
    assert.deepEqual(shared.body.data, { models: [{ name: 'sentiment-bert' }] });
    await redis.stop();
    const other = '{ models { name task } }';
    assert.deepEqual(
      errorCodes((await post(a.url, { extensions: persisted(documentHash(other)) })).body),
      ['PERSISTED_QUERY_NOT_FOUND'],
      'a miss, not a failure',
    );
    assert.deepEqual(
      (await post(a.url, { query: other, extensions: persisted(documentHash(other)) })).body.errors,
      undefined,
    );
    assert.deepEqual(
      (await post(a.url, { extensions: persisted(documentHash(other)) })).body.data,
      { models: [{ name: 'sentiment-bert', task: 'sentiment' }] },
      'kept on the replica',
    );
  });
});

describe('trusted documents per caller, from PostgreSQL shared by two gateways (TRUSTED_DOCUMENTS_DATABASE_URL)', () => {
  const ISSUER = 'https://idp.example.com/realms/bank';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trusted-pg-'));
  const keys = [
    { name: 'partner', key: 'pg-partner-key-0123456789abcdef', scopes: ['sentiment:read'] },
    { name: 'other', key: 'pg-other-key-0123456789abcdef00', scopes: ['sentiment:read'] },
    { name: 'ops', key: 'pg-ops-key-0123456789abcdef00000', scopes: ['admin'] },
  ];
  const as = (name: string) => ({ authorization: `Bearer ${keys.find((k) => k.name === name)!.key}` });
  const op = (name: string, body: string) => ({ id: documentHash(body), name, type: 'query' as const, body });
  const partnerOp = op(
    'PartnerScores',
    'query PartnerScores($texts: [String!]!) {\n  sentiment(texts: $texts) {\n    label\n    score\n  }\n}',
  );
  const partnerNext = op(
    'PartnerLabels',
    'query PartnerLabels($texts: [String!]!) {\n  sentiment(texts: $texts) {\n    label\n  }\n  __typename\n}',
  );
  const aliceOp = op('AliceModels', 'query AliceModels {\n  models {\n    name\n  }\n}');
  const documents = TrustedDocuments.read(MANIFEST);
  const globalOp = documents.operations.find((o) => o.name === 'Sentiment')!;
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  let pool: pg.Pool;
  let polling: Gateway; // reads the table every second
  let onDemand: Gateway; // reads it at start and on POST /trusted-documents/refresh only
  let alice: { authorization: string };

  before(async () => {
    postgres = await startPostgres();
    pool = new pg.Pool({ connectionString: postgres.url, max: 1 });
    // The global set as an operator publishes it: every examples/ operation, by the script.
    const run = await promisify(execFile)(
      process.execPath,
      [path.join(REPO_ROOT, 'dist', 'scripts', 'trusted-documents.js'), '--database-url', postgres.url],
      { encoding: 'utf8' },
    );
    assert.match(
      run.stdout,
      new RegExp(`${documents.operations.length} operations published to PostgreSQL for every caller`),
    );
    // The partner's client project, registered for its key only.
    const client = path.join(dir, 'partner-app');
    (await import('node:fs')).mkdirSync(client);
    writeFileSync(path.join(client, 'scores.graphql'), partnerOp.body);
    const partner = await promisify(execFile)(
      process.execPath,
      [
        path.join(REPO_ROOT, 'dist', 'scripts', 'trusted-documents.js'),
        '--database-url',
        postgres.url,
        '--caller',
        'partner',
        '--no-examples',
        client,
      ],
      { encoding: 'utf8' },
    );
    assert.match(partner.stdout, /1 operations published to PostgreSQL for partner/);
    await publishTrustedDocuments(pool, ['jwt:alice@bank.example'], [aliceOp]);
    const rsa = await generateKeyPair('RS256');
    const jwks = path.join(dir, 'jwks.json');
    writeFileSync(
      jwks,
      JSON.stringify({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' }] }),
    );
    alice = {
      authorization: `Bearer ${await new SignJWT({ scope: 'sentiment:read' })
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .setIssuer(ISSUER)
        .setAudience('fin-intel')
        .setSubject('alice@bank.example')
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
        .sign(rsa.privateKey)}`,
    };
    const env = {
      MODELS: 'sentiment-bert',
      TRUSTED_DOCUMENTS: 'on',
      TRUSTED_DOCUMENTS_DATABASE_URL: postgres.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: 'fin-intel',
      JWT_JWKS: jwks,
      API_KEYS: JSON.stringify(keys.map(({ name, key, scopes }) => ({ name, sha256: hashApiKey(key), scopes }))),
    };
    [polling, onDemand] = await Promise.all([
      startTestGateway({ ...env, TRUSTED_DOCUMENTS_REFRESH_S: '1' }),
      startTestGateway({ ...env, TRUSTED_DOCUMENTS_REFRESH_S: '0' }),
    ]);
  });
  after(async () => {
    await Promise.all([polling?.stop(), onDemand?.stop()]);
    if (pool && !pool.ended) await pool.end();
    await postgres?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const variables = { texts: ['Bank shares slump'] };
  /**
   * What `who` gets for `operation` on `gw`, sent by hash alone and by text (both must agree): 'runs', 'refused' (the
   * trusted-documents codes), or the codes of a document that passed the check and failed later (auth).
   */
  const verdict = async (gw: Gateway, who: Record<string, string>, operation: { id: string; body: string }) => {
    const byHash = await post(gw.url, { extensions: persisted(operation.id), variables }, who);
    const byText = await post(gw.url, { query: operation.body, variables }, who);
    const [hashCodes, textCodes] = [errorCodes(byHash.body).join(), errorCodes(byText.body).join()];
    if (hashCodes === 'PERSISTED_QUERY_NOT_FOUND' && textCodes === 'OPERATION_NOT_ALLOWED') return 'refused';
    assert.equal(
      hashCodes,
      textCodes,
      `by hash ${JSON.stringify(byHash.body)}, by text ${JSON.stringify(byText.body)}`,
    );
    if (hashCodes === '') assert.ok(Object.keys(byHash.body.data ?? {}).length > 0 && byText.status === 200);
    return hashCodes || 'runs';
  };
  const runs = async (gw: Gateway, who: Record<string, string>, operation: { id: string; body: string }) =>
    (await verdict(gw, who, operation)) === 'runs';
  const refresh = (gw: Gateway, headers: Record<string, string>) =>
    fetch(gw.url.replace('/graphql', '/trusted-documents/refresh'), { method: 'POST', headers });
  /** Polls observable state (no fixed sleeps). */
  const until = async (ready: () => Promise<boolean>, what: string) => {
    const deadline = performance.now() + 20_000;
    while (!(await ready())) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it("a key or JWT caller runs its own operations and the global ones, never another caller's, on both gateways", async () => {
    // Anonymous callers pass the document check with a global operation, then lack the scope sentiment:read.
    const matrix: Array<[string, Record<string, string>, Record<string, string>]> = [
      ['partner', as('partner'), { global: 'runs', partner: 'runs', alice: 'refused' }],
      ['other', as('other'), { global: 'runs', partner: 'refused', alice: 'refused' }],
      ['jwt:alice', alice, { global: 'runs', partner: 'refused', alice: 'runs' }],
      ['anonymous', {}, { global: 'UNAUTHENTICATED', partner: 'refused', alice: 'refused' }],
    ];
    const ops = { global: globalOp, partner: partnerOp, alice: aliceOp };
    let checked = 0;
    for (const gw of [polling, onDemand]) {
      for (const [who, headers, expected] of matrix) {
        for (const [name, operation] of Object.entries(ops)) {
          assert.equal(await verdict(gw, headers, operation), expected[name], `${who} ${name}`);
          checked++;
        }
      }
    }
    assert.equal(checked, 2 * 4 * 3);
  });

  it('a publish reaches the polling gateway by itself and the other on POST /trusted-documents/refresh; revoked operations stop', async () => {
    await publishTrustedDocuments(pool, ['partner'], [partnerNext]);
    await until(() => runs(polling, as('partner'), partnerNext), 'the polling gateway to read the new partner set');
    assert.equal(await runs(polling, as('partner'), partnerOp), false, 'replaced: the old operation is revoked');
    assert.equal(await runs(onDemand, as('partner'), partnerNext), false, 'not polling: still the set read at start');
    assert.equal(await runs(onDemand, as('partner'), partnerOp), true);
    const denied = [await refresh(onDemand, as('partner')), await refresh(onDemand, {})];
    assert.deepEqual(
      denied.map((r) => r.status),
      [403, 401],
    );
    assert.deepEqual(errorCodes((await denied[0]!.json()) as Body), ['FORBIDDEN']);
    const refreshed = await refresh(onDemand, as('ops'));
    assert.equal(refreshed.status, 200);
    assert.deepEqual(await refreshed.json(), {
      source: 'PostgreSQL table trusted_documents',
      changed: true,
      operations: documents.operations.length + 2,
    });
    assert.equal(await runs(onDemand, as('partner'), partnerNext), true);
    assert.equal(await runs(onDemand, as('partner'), partnerOp), false);
    assert.deepEqual(await (await refresh(onDemand, as('ops'))).json(), {
      source: 'PostgreSQL table trusted_documents',
      changed: false,
      operations: documents.operations.length + 2,
    });
  });

  it('with PostgreSQL down both keep serving what they read, and a refresh says why it failed', async () => {
    await pool.end();
    await postgres.stop();
    const failed = await refresh(onDemand, as('ops'));
    assert.equal(failed.status, 503);
    const body = (await failed.json()) as Body;
    assert.deepEqual(errorCodes(body), ['TRUSTED_DOCUMENTS_UNAVAILABLE']);
    assert.match(
      body.errors![0]!.message,
      new RegExp(
        `trusted documents cannot be read from PostgreSQL table trusted_documents: .*; still serving the ${documents.operations.length + 2} operations loaded before`,
      ),
    );
    for (const gw of [polling, onDemand]) {
      assert.equal(await runs(gw, as('partner'), partnerNext), true);
      assert.equal(await runs(gw, as('other'), partnerNext), false);
    }
  });
});
