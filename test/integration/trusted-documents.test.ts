import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { stripIgnoredCharacters } from 'graphql';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/platform/api-keys.js';
import { REPO_ROOT } from '../../src/platform/config.js';
import { readExamples } from '../../src/server/examples.js';
import type { Gateway } from '../../src/server/gateway.js';
import { documentHash, TrustedDocuments } from '../../src/server/trusted-documents.js';
import { startTestGateway, type GraphQLResponse } from '../support/gateway.js';
import { startRedis } from '../support/redis-server.js';

const MANIFEST = path.join(REPO_ROOT, 'examples', 'trusted-documents.json');
const KEYS = [
  { name: 'partner', key: 'partner-key-0123456789abcdef', scopes: ['sentiment:read', 'credit:assess', 'forecast:read'] },
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
  return { status: res.status, body: await res.json() as Body };
}

/** GET /graphql with the parameters as GraphQL over HTTP has them (served by Express). */
async function get(url: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const res = await fetch(`${url}?${search}`, { headers: { 'apollo-require-preflight': 'true', ...headers } });
  return { status: res.status, body: await res.json() as Body };
}

const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const errorCodes = (body: Body) => (body.errors ?? []).map((e) => e.extensions?.code);

describe('trusted documents (TRUSTED_DOCUMENTS=on) over real HTTP', () => {
  let gw: Gateway;
  const documents = TrustedDocuments.read(MANIFEST);
  const examples = readExamples(path.join(REPO_ROOT, 'examples'));
  before(async () => {
    gw = await startTestGateway({
      TRUSTED_DOCUMENTS: 'on', TRUSTED_DOCUMENTS_FILE: MANIFEST,
      API_KEYS: JSON.stringify(KEYS.map(({ name, key, scopes }) => ({ name, sha256: hashApiKey(key), scopes }))),
    });
  });
  after(() => gw.stop());

  it('the committed manifest is what npm run trusted-documents writes for examples/', async () => {
    const out = path.join((await import('node:os')).tmpdir(), `trusted-documents-${process.pid}.json`);
    await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'trusted-documents.js'), '--out', out]);
    assert.deepEqual(TrustedDocuments.read(out).operations, documents.operations);
    assert.equal(documents.operations.length, examples.length, 'one operation per example file');
  });

  it('npm run examples: every examples/ operation answers, sent as its file text', async () => {
    const run = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'run-examples.js'), gw.url],
      { encoding: 'utf8', env: { ...process.env, EXAMPLES_API_KEY: KEYS[0]!.key } });
    assert.match(run.stdout, new RegExp(`examples: ${examples.length} answered, 0 failed`));
  });

  it('every registered operation answers by its hash alone: POST (direct path), POST through Express, and GET', async () => {
    let answered = 0;
    let expected = 0;
    for (const example of examples) {
      const operation = documents.operations.find((o) => stripIgnoredCharacters(o.body) === stripIgnoredCharacters(example.query));
      assert.ok(operation, `${example.name} is in the manifest`);
      const variables = JSON.parse(example.variables) as Record<string, unknown>;
      const byHash = { extensions: persisted(operation.id), variables };
      // A URL is read with the headers (16 KiB at most): the forecast's long series goes by POST only.
      const paths = [post(gw.url, byHash, partner), post(gw.url, byHash, partner, true), ...(example.variables.length < 4000 ? [get(gw.url, byHash, partner)] : [])];
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
    for (const body of [{ query: reformatted, variables }, { query: sentiment.body, variables, extensions: persisted(sentiment.id) }]) {
      const res = await post(gw.url, body, partner);
      assert.equal((res.body.data as { sentiment: unknown[] } | undefined)?.sentiment.length, 1, JSON.stringify(res.body.errors));
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
      const paths = [post(gw.url, { query }, partner), post(gw.url, { query }, partner, true), ...(query.length < 4000 ? [get(gw.url, { query }, partner)] : [])];
      expected += paths.length;
      for (const res of await Promise.all(paths)) {
        assert.equal(res.status, 400, query.slice(0, 60));
        assert.deepEqual(errorCodes(res.body), ['OPERATION_NOT_ALLOWED'], query.slice(0, 60));
        assert.match(res.body.errors![0]!.message, /runs registered operations only \(TRUSTED_DOCUMENTS=on, 6 in its manifest\): the document sent \(sha256 [0-9a-f]{64}\) is not one of them/);
        refused++;
      }
    }
    assert.equal(refused, expected);
    assert.ok(expected >= others.length * 2 + 8);
    // The refusal comes before GraphQL: a document that does not even parse gets it, not GRAPHQL_PARSE_FAILED.
    const unknownHash = documentHash('{ __typename }');
    for (const res of [await post(gw.url, { extensions: persisted(unknownHash) }, partner), await get(gw.url, { extensions: persisted(unknownHash) }, partner)]) {
      assert.deepEqual(errorCodes(res.body), ['PERSISTED_QUERY_NOT_FOUND']);
      assert.match(res.body.errors![0]!.message, new RegExp(`no trusted document has the hash ${unknownHash}`));
    }
    const swapped = await post(gw.url, { query: '{ __typename }', extensions: persisted(sentiment.id) }, partner);
    assert.deepEqual(errorCodes(swapped.body), ['OPERATION_NOT_ALLOWED'], 'a registered hash does not carry another text');
    assert.match(swapped.body.errors![0]!.message, /is not the registered text of Sentiment; send the hash alone/);
    // A repeated GET parameter: Apollo reads the first, and so does the check.
    const sentimentQuery = encodeURIComponent(sentiment.body);
    for (const search of [`query=${encodeURIComponent('{ __typename }')}&query=${sentimentQuery}`, `query=${encodeURIComponent('{ __typename }')}&extensions=${encodeURIComponent(JSON.stringify(persisted(sentiment.id)))}&extensions=x`]) {
      const res = await fetch(`${gw.url}?${search}`, { headers: { 'apollo-require-preflight': 'true', ...partner } });
      assert.deepEqual(errorCodes(await res.json() as Body), ['OPERATION_NOT_ALLOWED'], search.slice(0, 60));
    }
    const repeatedHash = await fetch(`${gw.url}?extensions=${encodeURIComponent(JSON.stringify(persisted(unknownHash)))}&extensions=${encodeURIComponent(JSON.stringify(persisted(sentiment.id)))}`, { headers: { 'apollo-require-preflight': 'true', ...partner } });
    assert.deepEqual(errorCodes(await repeatedHash.json() as Body), ['PERSISTED_QUERY_NOT_FOUND']);
    const anonymous = await post(gw.url, { query: '{ __typename }' });
    assert.deepEqual(errorCodes(anonymous.body), ['OPERATION_NOT_ALLOWED'], 'anonymous callers too');
  });

  it('a caller with the scope explore may send free-form documents and register them by APQ', async () => {
    const query = '{ sentiment(texts: ["Gold steady"]) { label } }';
    const free = await post(gw.url, { query }, analyst);
    assert.equal((free.body.data as { sentiment: unknown[] }).sentiment.length, 1);
    const fresh = '{ sentiment(texts: ["Oil slips"]) { label score } }';
    const hash = documentHash(fresh);
    assert.deepEqual(errorCodes((await post(gw.url, { extensions: persisted(hash) }, analyst)).body), ['PERSISTED_QUERY_NOT_FOUND'], 'APQ: not yet registered');
    assert.deepEqual((await post(gw.url, { query: fresh, extensions: persisted(hash) }, analyst)).body.errors, undefined);
    assert.equal(((await post(gw.url, { extensions: persisted(hash) }, analyst)).body.data as { sentiment: unknown[] }).sentiment.length, 1, 'APQ: registered');
    assert.deepEqual(errorCodes((await post(gw.url, { extensions: persisted(hash) }, partner)).body), ['PERSISTED_QUERY_NOT_FOUND'], 'but not for callers without explore');
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
    assert.deepEqual(errorCodes((await post(b.url, { extensions: persisted(hash) })).body), ['PERSISTED_QUERY_NOT_FOUND']);
    assert.deepEqual((await post(a.url, { query, extensions: persisted(hash) })).body.errors, undefined);
    const shared = await post(b.url, { extensions: persisted(hash) });
    assert.deepEqual(shared.body.data, { models: [{ name: 'sentiment-bert' }] });
    await redis.stop();
    const other = '{ models { name task } }';
    assert.deepEqual(errorCodes((await post(a.url, { extensions: persisted(documentHash(other)) })).body), ['PERSISTED_QUERY_NOT_FOUND'], 'a miss, not a failure');
    assert.deepEqual((await post(a.url, { query: other, extensions: persisted(documentHash(other)) })).body.errors, undefined);
    assert.deepEqual((await post(a.url, { extensions: persisted(documentHash(other)) })).body.data, { models: [{ name: 'sentiment-bert', task: 'sentiment' }] }, 'kept on the replica');
  });
});
