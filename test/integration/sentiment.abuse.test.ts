import assert from 'node:assert/strict';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { NewsSentimentDocument, SentimentDocument } from '../generated/graphql.js';
import { codes, gql, startTestGateway, type GraphQLResponse } from '../support/gateway.js';

/** No stack traces, no file-system paths, ever. */
function assertClean(res: GraphQLResponse<unknown>): void {
  const text = JSON.stringify(res.body);
  assert.doesNotMatch(text, /stacktrace|\/work\/|node_modules|at [A-Za-z]+ \(/);
}

describe('misuse of the sentiment API and of the GraphQL endpoint', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MAX_QUERY_DEPTH: '3', BODY_LIMIT: '200kb' });
  });
  after(() => gw.stop());

  const expectError = async (res: Promise<GraphQLResponse<unknown>>, code: string, message: RegExp) => {
    const r = await res;
    assert.deepEqual(codes(r), [code], JSON.stringify(r.body));
    assert.match(r.body.errors![0]!.message, message);
    assertClean(r);
    return r;
  };

  it('more than 256 texts', async () =>
    void (await expectError(
      gql(gw.url, SentimentDocument, { texts: new Array(257).fill('x') }),
      'BAD_USER_INPUT',
      /texts must hold 1\.\.256 items, got 257/,
    )));

  it('no texts', async () =>
    void (await expectError(gql(gw.url, SentimentDocument, { texts: [] }), 'BAD_USER_INPUT', /got 0/)));

  it('an empty or whitespace-only text, named by its index', async () => {
    await expectError(
      gql(gw.url, SentimentDocument, { texts: ['fine', ''] }),
      'BAD_USER_INPUT',
      /texts\[1\] must be non-empty/,
    );
    const r = await expectError(
      gql(gw.url, SentimentDocument, { texts: ['fine', 'ok', ' \t\n'] }),
      'BAD_USER_INPUT',
      /texts\[2\]/,
    );
    assert.equal(r.body.errors![0]!.extensions!.field, 'texts[2]');
  });

  it('a text over 2,000 characters', async () =>
    void (await expectError(
      gql(gw.url, SentimentDocument, { texts: ['x'.repeat(2001)] }),
      'BAD_USER_INPUT',
      /texts\[0\] must be at most 2000 characters, got 2001/,
    )));

  it('a wrong variable type, with extensions.field naming the variable', async () => {
    const r = await expectError(
      gql(gw.url, SentimentDocument, { texts: 42 as unknown as string[] }),
      'BAD_USER_INPUT',
      /texts/,
    );
    assert.equal(r.body.errors![0]!.extensions!.field, 'texts');
  });

  it('null inside the list, with extensions.field naming the item', async () => {
    const r = await expectError(
      gql(gw.url, SentimentDocument, { texts: ['a', null as unknown as string] }),
      'BAD_USER_INPUT',
      /texts/,
    );
    assert.equal(r.body.errors![0]!.extensions!.field, 'texts[1]');
  });

  it('an unknown field', async () =>
    void (await expectError(gql(gw.url, '{ sentiment(texts: ["a"]) { mood } }'), 'GRAPHQL_VALIDATION_FAILED', /mood/)));

  it('syntax errors', async () =>
    void (await expectError(gql(gw.url, '{ sentiment(texts: ['), 'GRAPHQL_PARSE_FAILED', /Syntax Error/)));

  it('articles: duplicate ids, bad tickers, empty headline', async () => {
    const a = (over: object) => ({ id: '1', headline: 'Stocks rise', ...over });
    await expectError(
      gql(gw.url, NewsSentimentDocument, { articles: [a({}), a({})] }),
      'BAD_USER_INPUT',
      /articles\[1\]\.id must be unique/,
    );
    await expectError(
      gql(gw.url, NewsSentimentDocument, { articles: [a({ tickers: ['$$$ nope'] })] }),
      'BAD_USER_INPUT',
      /articles\[0\]\.tickers\[0\]/,
    );
    await expectError(
      gql(gw.url, NewsSentimentDocument, { articles: [a({ headline: '   ' })] }),
      'BAD_USER_INPUT',
      /articles\[0\]\.headline/,
    );
    await expectError(
      gql(gw.url, NewsSentimentDocument, { articles: [a({ publishedAt: 'yesterday' })] }),
      'BAD_USER_INPUT',
      /publishedAt|DateTime/,
    );
  });

  it('aliases cannot multiply inference past the complexity limit', async () => {
    const texts = JSON.stringify(new Array(250).fill('Stocks rise'));
    const query = `{ ${Array.from({ length: 9 }, (_, i) => `a${i}: sentiment(texts: ${texts}) { label }`).join(' ')} }`;
    await expectError(gql(gw.url, query), 'QUERY_TOO_COMPLEX', /query complexity must be at most 20000, got 2\d{4}/);
  });

  it('queries nested deeper than the limit', async () =>
    void (await expectError(
      gql(
        gw.url,
        '{ newsSentiment(articles: [{id: "1", headline: "x"}]) { articles { sentiment { scores { label } } } } }',
      ),
      'QUERY_TOO_DEEP',
      /query depth must be at most 3/,
    )));

  it('a body over the size limit gets 413 with a GraphQL-shaped error, even while the caller is still sending it', async () => {
    for (const size of [300_000, 40_000_000]) {
      const res = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(size) } }),
      });
      assert.equal(res.status, 413, `${size}`);
      const body = (await res.json()) as { errors: Array<{ extensions: { code: string }; message: string }> };
      assert.equal(body.errors[0]!.extensions.code, 'PAYLOAD_TOO_LARGE');
      assert.match(body.errors[0]!.message, /at most 204800 bytes/);
    }
  });

  it('a body streamed without a length (chunked) over the size limit gets 413 too, and the gateway keeps serving', async () => {
    const { hostname, port, pathname } = new URL(gw.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          hostname,
          port,
          path: pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) =>
        error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error),
      );
      req.write('{"query":"{ __typename }","variables":{"pad":"');
      for (let i = 0; i < 30; i++) req.write('x'.repeat(10_000));
      req.end('"}}');
    });
    assert.equal(status, 413);
    assert.deepEqual(codes(await gql(gw.url, SentimentDocument, { texts: ['Shares rally'] })), []);
  });

  it('a gzip-encoded body (served by the general HTTP stack) gets the same answer as a plain one (served directly)', async () => {
    const body = JSON.stringify({
      query: 'query($t:[String!]!){ sentiment(texts:$t) { label score } }',
      variables: { t: ['Profit warning sends shares down'] },
    });
    const plain = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const zipped = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    assert.equal(plain.status, 200);
    assert.equal(zipped.status, 200);
    assert.deepEqual(await zipped.json(), await plain.json());
    for (const res of [plain, zipped]) {
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.match(res.headers.get('x-gateway-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  it('a body that is not JSON gets 400', async () => {
    for (const body of ['{"query": ', '"a JSON string, not an object"']) {
      const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 400, body);
      assert.equal(
        ((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
        'BAD_REQUEST',
      );
    }
  });

  it('a simple cross-site form POST is refused (CSRF prevention)', async () => {
    const res = await fetch(`${gw.url}?query=%7B__typename%7D`, { method: 'GET' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /CSRF/);
  });
});

describe('a full model queue', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODEL_BATCHING: '{"sentiment-bert":{"maxQueue":4}}' });
  });
  after(() => gw.stop());

  it('answers OVERLOADED (retryable) instead of queueing without bound', async () => {
    const r = await gql(gw.url, SentimentDocument, { texts: ['a', 'b', 'c', 'd', 'e'] });
    assert.deepEqual(codes(r), ['OVERLOADED']);
    assert.equal(r.body.errors![0]!.extensions!.retryable, true);
    assert.match(r.body.errors![0]!.message, /maximum of 4 items/);
    const metrics = await (await fetch(gw.url.replace('/graphql', '/metrics'))).text();
    assert.match(metrics, /^gateway_inference_errors_total\{model="sentiment-bert",code="OVERLOADED"\} 1$/m);
  });
});
