import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { sampleAccount } from '../support/accounts.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { modelsFolder } from '../support/model-folders.js';
import { weekdaySeries } from '../support/prices.js';

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** `query{...F0} fragment F0 on Query{ a0:__typename ...F1 a1:__typename ...F1 ... }`: `fanOut ** fragments` paths in under 3 kB. */
function fanOutDocument(fragments: number, fanOut: number): string {
  let doc = 'query{...F0} ';
  for (let i = 0; i < fragments; i++) {
    const fields = Array.from(
      { length: fanOut },
      (_, j) => `a${j}:__typename${i + 1 < fragments ? ` ...F${i + 1}` : ''}`,
    );
    doc += `fragment F${i} on Query{ ${fields.join(' ')} } `;
  }
  return doc;
}

describe('integrity: requests that once got HTTP 500 or stalled the event loop get a stable code', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'credit-gbt,forecast-qnn',
      MAX_QUERY_DEPTH: '3',
      MAX_QUERY_COMPLEXITY: '8000',
    });
  });
  after(() => gw.stop());

  const post = (body: unknown) =>
    fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('an operationName that picks no operation: 400 OPERATION_RESOLUTION_FAILURE, by POST and GET', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ query: '{ __typename }', operationName: 'A' }, /Unknown operation named "A"/],
      [{ query: '{ __typename }', operationName: '' }, /Unknown operation named ""/],
      [{ query: 'query A { __typename } query B { __typename }' }, /Must provide operation name/],
      [{ query: 'query A { __typename } query B { __typename }', operationName: 'C' }, /Unknown operation named "C"/],
    ];
    for (const [body, message] of cases) {
      // Twice: the second use of a document goes to the compiled executor.
      for (let round = 0; round < 2; round++) {
        const res = await post(body);
        const json = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.deepEqual(
          json.errors.map((e) => e.extensions.code),
          ['OPERATION_RESOLUTION_FAILURE'],
        );
        assert.match(json.errors[0]!.message, message);
      }
    }
    const get = await fetch(`${gw.url}?query=${encodeURIComponent('{ __typename }')}&operationName=A`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    assert.equal(get.status, 400);
    assert.equal(
      ((await get.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
      'OPERATION_RESOLUTION_FAILURE',
    );
  });

  it('a document whose fragments fan out to 10^10 paths is refused as QUERY_TOO_COMPLEX (its depth is found without expanding them)', async () => {
    const query = fanOutDocument(10, 10);
    assert.ok(query.length < 3000);
    const res = await gql(gw.url, query);
    assert.equal(res.status, 400);
    assert.deepEqual(codes(res), ['QUERY_TOO_COMPLEX']);
    // The gateway is still answering others.
    assert.equal((await fetch(gw.url.replace('/graphql', '/healthz'))).status, 200);
  });

  it('a deep document built of fragments is still refused as QUERY_TOO_DEEP', async () => {
    const res = await gql(
      gw.url,
      'query { ...A } fragment A on Query { models { ...B } } fragment B on ModelInfo { batching { maxQueue } stats { items } }',
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const deep = await gql(
      gw.url,
      'query { ...A } fragment A on Query { newsSentiment(articles: [{id: "1", headline: "x"}]) { ...B } } ' +
        'fragment B on NewsSentimentReport { articles { sentiment { scores { label } } } }',
    );
    assert.deepEqual(codes(deep), ['QUERY_TOO_DEEP']);
    assert.match(deep.body.errors![0]!.message, /query depth must be at most 3/);
  });

  it("the same work costs the same directly and through federation's _entities (8 tickers of 10,000 price rows: 8,016 units either way)", async () => {
    const direct = await gql(
      gw.url,
      `{ ${Array.from({ length: 8 }, (_, i) => `t${i}: ticker(symbol: "S${i}") { prices(limit: 10000) { close } }`).join(' ')} }`,
    );
    const reps = Array.from({ length: 8 }, (_, i) => ({ __typename: 'Ticker', symbol: `S${i}` }));
    const viaVariables = await gql(
      gw.url,
      'query($r:[_Any!]!){ _entities(representations:$r) { ... on Ticker { prices(limit: 10000) { close } } } }',
      { r: reps },
    );
    const literal = await gql(
      gw.url,
      `{ _entities(representations: [${reps.map((r) => `{ __typename: "Ticker", symbol: "${r.symbol}" }`).join(', ')}]) { ... on Ticker { prices(limit: 10000) { close } } } }`,
    );
    for (const res of [direct, viaVariables, literal]) {
      assert.deepEqual(codes(res), ['QUERY_TOO_COMPLEX']);
      assert.match(res.body.errors![0]!.message, /query complexity must be at most 8000, got 8016$/);
    }
    const one = await gql(
      gw.url,
      'query($r:[_Any!]!){ _entities(representations:$r) { ... on Ticker { prices(limit: 10000) { close } } } }',
      { r: reps.slice(0, 7) },
    );
    assert.equal(one.body.errors, undefined, 'seven cost 7,014 and pass');
  });

  it('the UI has an icon: /favicon.ico and /favicon.svg answer an SVG', async () => {
    for (const file of ['/favicon.ico', '/favicon.svg']) {
      const res = await fetch(gw.url.replace('/graphql', file));
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/);
      assert.match(await res.text(), /^<svg /);
    }
  });

  it('a series of 300 ordinary prices ending at 5e-324: BAD_USER_INPUT naming the input, not INTERNAL_SERVER_ERROR', async () => {
    const closes = Array.from({ length: 300 }, (_, i) => 100 + Math.sin(i / 5));
    closes[299] = 5e-324;
    const res = await gql(gw.url, 'query($i:ForecastInput!){ marketForecast(input:$i) { lastClose } }', {
      i: { series: weekdaySeries(closes) },
    });
    assert.deepEqual(codes(res), ['BAD_USER_INPUT']);
    assert.match(res.body.errors![0]!.message, /^input: the series moves too far between prices/);
  });
});

describe('integrity: the version recorded is the artefact that decided', () => {
  let gw: Gateway;
  let dir: string;
  let root: string;
  before(async () => {
    dir = modelsFolder('identity-', ['credit-gbt']);
    root = path.join(dir, 'credit-gbt');
    gw = await startTestGateway({ MODELS_DIR: dir, ALLOW_OPEN_ADMIN: 'true', MODEL_WATCH: 'true' });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const assess = () =>
    gql<
      { creditAssessment: { probabilityOfDefault: number; model: { version: string; sha256: string | null } } },
      unknown
    >(
      gw.url,
      'query($a:CardAccountInput!){ creditAssessment(account:$a) { probabilityOfDefault model { version sha256 } } }',
      { a: sampleAccount(7) },
    );
  const models = () =>
    gql<{ models: Array<{ version: string; sha256: string | null; versions: string[] }> }, unknown>(
      gw.url,
      '{ models { version sha256 versions } }',
    );

  it('every answer, ModelInfo, the decision record and /metrics carry the SHA-256 of the model file that ran', async () => {
    const expected = sha256Of(path.join(root, 'model.onnx'));
    const answer = await assess();
    assert.deepEqual(answer.body.data!.creditAssessment.model, { version: '2.1.0', sha256: expected });
    assert.equal((await models()).body.data!.models[0]!.sha256, expected);
    const records = await gql<
      { creditDecisions: Array<{ modelVersion: string; modelSha256: string | null }> },
      unknown
    >(gw.url, '{ creditDecisions(limit: 1) { modelVersion modelSha256 } }');
    assert.deepEqual(records.body.data!.creditDecisions, [{ modelVersion: '2.1.0', modelSha256: expected }]);
    const metrics = await (await fetch(gw.url.replace('/graphql', '/metrics'))).text();
    assert.match(
      metrics,
      new RegExp(`gateway_model_info\\{model="credit-gbt",version="2\\.1\\.0",sha256="${expected}"\\} 1`),
    );
  });

  it('a version swap under load: every answered decision is on record with the hash of the artefact that computed it', async () => {
    const hashes = new Map([
      ['2.1.0', sha256Of(path.join(root, 'model.onnx'))],
      ['2.0.0', sha256Of(path.join(root, 'versions', '2.0.0', 'model.onnx'))],
    ]);
    assert.notEqual(hashes.get('2.1.0'), hashes.get('2.0.0'));
    const answered: Array<{ accountId: string; version: string; sha256: string | null }> = [];
    let requests = 0;
    let afterSwap = 0;
    let swapped: Promise<unknown> | undefined;
    let swapDone = false;
    // Requests of 10 accounts keep going while the swap loads; past 60 of them they wait for it, and 12 answered by
    // the new version end the load (at most ~80 requests: the record answers up to 1,000 rows per query).
    const client = async (c: number) => {
      for (let i = 0; afterSwap < 12; i++) {
        if (requests >= 60 && !swapDone) await swapped;
        requests++;
        const accounts = Array.from({ length: 10 }, (_, k) => ({
          ...sampleAccount(k),
          accountId: `swap-${c}-${i}-${k}`,
        }));
        const res = await gql<
          { creditAssessments: Array<{ accountId: string; model: { version: string; sha256: string | null } }> },
          unknown
        >(
          gw.url,
          'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a) { accountId model { version sha256 } } }',
          { a: accounts },
        );
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        for (const r of res.body.data!.creditAssessments) answered.push({ accountId: r.accountId, ...r.model });
        if (res.body.data!.creditAssessments[0]!.model.version === '2.0.0') afterSwap++;
      }
    };
    try {
      const load = Array.from({ length: 4 }, (_, c) => client(c));
      while (requests < 20) await new Promise((resolve) => setImmediate(resolve));
      swapped = gql(gw.url, 'mutation { activateModelVersion(name: "credit-gbt", version: "2.0.0") { version } }').then(
        (res) => {
          swapDone = true;
          assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        },
      );
      await Promise.all([...load, swapped]);
      assert.deepEqual([...new Set(answered.map((a) => a.version))].sort(), ['2.0.0', '2.1.0']);
      for (const a of answered)
        assert.equal(a.sha256, hashes.get(a.version), `${a.accountId} answered as ${a.version} with ${a.sha256}`);
      const records = await gql<
        { creditDecisions: Array<{ accountId: string; modelVersion: string; modelSha256: string | null }> },
        unknown
      >(
        gw.url,
        '{ creditDecisions(limit: 1000, from: "2000-01-01T00:00:00Z") { accountId modelVersion modelSha256 } }',
      );
      const recorded = new Map(
        records.body.data!.creditDecisions.filter((r) => r.accountId.startsWith('swap-')).map((r) => [r.accountId, r]),
      );
      assert.ok(answered.length < 1000);
      assert.equal(recorded.size, answered.length, 'every answered decision is on record');
      for (const a of answered) {
        const r = recorded.get(a.accountId)!;
        assert.deepEqual([r.modelVersion, r.modelSha256], [a.version, a.sha256], a.accountId);
      }
    } finally {
      const back = await gql(
        gw.url,
        'mutation { activateModelVersion(name: "credit-gbt", version: "2.1.0") { version } }',
      );
      assert.equal(back.body.errors, undefined, JSON.stringify(back.body.errors));
    }
  });

  it('a manifest relabelled 6.6.6 while versions/6.6.6/ holds another (broken) artefact: refused, 2.1.0 keeps answering as 2.1.0', async () => {
    const before = await assess();
    const vdir = path.join(root, 'versions', '6.6.6');
    mkdirSync(vdir, { recursive: true });
    cpSync(path.join(root, 'features.json'), path.join(vdir, 'features.json'));
    writeFileSync(path.join(vdir, 'model.onnx'), 'not a model');
    const manifest = JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(vdir, 'manifest.json'), JSON.stringify({ ...manifest, version: '6.6.6' }));
    writeFileSync(path.join(root, 'manifest.json'), JSON.stringify({ ...manifest, version: '6.6.6' }));
    const activate = await gql(
      gw.url,
      'mutation { activateModelVersion(name: "credit-gbt", version: "6.6.6") { version } }',
    );
    assert.deepEqual(codes(activate), ['MODEL_UNAVAILABLE']);
    assert.match(
      activate.body.errors![0]!.message,
      /version 6\.6\.6 was refused .*versions\/6\.6\.6\/model\.onnx.*version 2\.1\.0 stays active/,
    );
    const after = await assess();
    assert.deepEqual(after.body.data!.creditAssessment, before.body.data!.creditAssessment);
    writeFileSync(path.join(root, 'manifest.json'), JSON.stringify(manifest));
  });

  it('a manifest that is not valid JSON (as an editor leaves it mid-save): models and model(name:) still answer', async () => {
    const manifest = readFileSync(path.join(root, 'manifest.json'), 'utf8');
    writeFileSync(path.join(root, 'manifest.json'), '{ "name": "credit-gbt", ');
    try {
      const listed = await models();
      assert.equal(listed.body.errors, undefined, JSON.stringify(listed.body.errors));
      assert.equal(listed.body.data!.models[0]!.version, '2.1.0');
      assert.ok(listed.body.data!.models[0]!.versions.includes('2.1.0'));
      const one = await gql<{ model: { version: string } | null }, unknown>(
        gw.url,
        '{ model(name: "credit-gbt") { version } }',
      );
      assert.equal(one.body.data!.model!.version, '2.1.0');
    } finally {
      writeFileSync(path.join(root, 'manifest.json'), manifest);
    }
  });
});

describe('integrity: start-up refuses a label that names another artefact', () => {
  it('a top-level manifest claiming a version whose versions/ folder holds other bytes stops start-up with a message saying so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'relabel-'));
    try {
      cpSync(modelsFolder('relabel-src-', ['credit-gbt']), dir, { recursive: true });
      const root = path.join(dir, 'credit-gbt');
      const manifest = JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(path.join(root, 'manifest.json'), JSON.stringify({ ...manifest, version: '2.0.0' }));
      const config = loadConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        NODE_ENV: 'test',
        PRICE_DB_PATH: ':memory:',
        AUDIT_DB_PATH: ':memory:',
        MODELS_DIR: dir,
      });
      await assert.rejects(
        startGateway(config, createLogger('silent')),
        /says version 2\.0\.0, but its artefacts \(sha256 [0-9a-f]{64}\) are not those of versions\/2\.0\.0\//,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('integrity: a draining gateway answers every request it was sent', () => {
  it('clients on kept-alive connections during stop get 200 or 503 SHUTTING_DOWN with Connection: close, never a reset', async () => {
    const gw = await startTestGateway({ MODELS: 'credit-gbt' });
    const outcomes: string[] = [];
    let started = 0;
    let markStarted: () => void = () => undefined;
    const allStarted = new Promise<void>((resolve) => (markStarted = resolve));
    // Each client sends on its own kept-alive connection (fetch's pool) until the gateway tells it to go elsewhere.
    const client = async () => {
      for (;;) {
        try {
          const res = await fetch(gw.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"query":"{ __typename }"}',
          });
          const body = (await res.json()) as { errors?: Array<{ extensions: { code: string } }> };
          if (++started === 8 * 3) markStarted();
          if (res.status === 503) {
            outcomes.push(`${res.status} ${body.errors![0]!.extensions.code} ${res.headers.get('connection')}`);
            return;
          }
          outcomes.push(String(res.status));
        } catch (error) {
          outcomes.push(
            `error ${(error as Error).message} ${String((error as { cause?: Error }).cause?.message ?? '')}`,
          );
          return;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await allStarted;
    await gw.stop();
    await Promise.all(clients);
    const kinds = new Set(outcomes);
    assert.deepEqual(
      [...kinds].filter((k) => k !== '200' && k !== '503 SHUTTING_DOWN close'),
      [],
      [...kinds].join('; '),
    );
    assert.equal(outcomes.filter((k) => k.startsWith('503')).length, 8);
  });
});
