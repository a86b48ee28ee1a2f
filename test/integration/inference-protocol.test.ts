import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/platform/api-keys.js';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { SentimentDocument } from '../generated/graphql.js';
import { gql, scrapeMetrics, startTestGateway } from '../support/gateway.js';
import { readTritonResponse, tritonRequest, type ClientInput } from '../support/triton-request.js';

const creditVectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'credit-gbt', 'test_vectors.json'), 'utf8'),
) as Array<{ features: number[]; probabilityOfDefault: number }>;
const forecastVectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'forecast-qnn', 'test_vectors.json'), 'utf8'),
) as Array<{ features: number[]; quantiles: number[][] }>;

interface V2Response {
  status: number;
  body: Record<string, unknown> & {
    error?: string;
    outputs?: Array<{ name: string; shape: number[]; datatype: string; data: unknown[] }>;
  };
}

async function v2(
  url: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<V2Response> {
  const res = await fetch(
    `${url}${route}`,
    body === undefined
      ? { headers }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        },
  );
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as V2Response['body']) : {} };
}

const texts = (data: string[]) => ({ inputs: [{ name: 'text', shape: [data.length], datatype: 'BYTES', data }] });

describe('Open Inference Protocol v2 over the real models', () => {
  let gw: Gateway;
  let base: string;
  before(async () => {
    gw = await startTestGateway();
    base = gw.url.replace('/graphql', '');
  });
  after(() => gw.stop());

  it("server metadata, health and each model's metadata and readiness", async () => {
    assert.deepEqual((await v2(base, '/v2')).body, {
      name: 'fin-intel-gateway',
      version: '2',
      extensions: ['binary_tensor_data'],
    });
    assert.equal((await v2(base, '/v2/health/live')).status, 200);
    assert.equal((await v2(base, '/v2/health/ready')).status, 200);
    const credit = await v2(base, '/v2/models/credit-gbt');
    assert.deepEqual(credit.body, {
      name: 'credit-gbt',
      versions: ['2.1.0'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 37] }],
      outputs: [
        { name: 'probability', datatype: 'FP32', shape: [-1, 1] },
        { name: 'contributions', datatype: 'FP32', shape: [-1, 37] },
      ],
    });
    assert.deepEqual((await v2(base, '/v2/models/sentiment-bert')).body.inputs, [
      { name: 'text', datatype: 'BYTES', shape: [-1] },
    ]);
    for (const route of [
      '/v2/models/forecast-qnn/ready',
      '/v2/models/forecast-qnn/versions/1.0.0/ready',
      '/v2/models/sentiment-bert/versions/3.0.0',
    ]) {
      assert.equal((await v2(base, route)).status, 200, route);
    }
    const missing = await v2(base, '/v2/models/forecast-qnn/versions/9.9.9/ready');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error!, /version 9\.9\.9 is not loaded; version 1\.0\.0 is/);
    assert.equal((await v2(base, '/v2/models/nope')).status, 404);
  });

  it('sentiment: BYTES in, the same probabilities as GraphQL out', async () => {
    const data = ['Apple beats earnings expectations and raises guidance', 'Bank shares slump after surprise loss'];
    const res = await v2(base, '/v2/models/sentiment-bert/infer', { id: 'req-7', ...texts(data) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.model_name, 'sentiment-bert');
    assert.equal(res.body.model_version, '3.0.0');
    assert.equal(res.body.id, 'req-7');
    const [probabilities, label, truncated] = res.body.outputs!;
    assert.deepEqual(
      [probabilities!.name, probabilities!.datatype, probabilities!.shape],
      ['probabilities', 'FP32', [2, 3]],
    );
    assert.deepEqual(label!.data, ['positive', 'negative']);
    assert.deepEqual(truncated!.data, [false, false]);
    const graphql = await gql(gw.url, SentimentDocument, { texts: data });
    const positive = graphql.body.data!.sentiment[0]!.scores.find((s) => s.label === 'POSITIVE')!.probability;
    assert.ok(Math.abs((probabilities!.data[2] as number) - positive) < 1e-6);
    const only = await v2(base, '/v2/models/sentiment-bert/infer', {
      ...texts(['Oil steady']),
      outputs: [{ name: 'label' }],
    });
    assert.deepEqual(
      only.body.outputs!.map((o) => o.name),
      ['label'],
    );
    // The body is JSON whatever the client calls it: text/plain, or no content type at all.
    for (const headers of [{ 'content-type': 'text/plain' }, {}] as Array<Record<string, string>>) {
      const res = await fetch(`${base}/v2/models/sentiment-bert/infer`, {
        method: 'POST',
        headers,
        body: JSON.stringify(texts(['Oil steady'])),
      });
      assert.equal(res.status, 200, JSON.stringify(headers));
      assert.equal(((await res.json()) as V2Response['body']).outputs![1]!.data.length, 1);
    }
  });

  it("credit and forecast: FP32 rows in (flat or nested), the training run's outputs out", async () => {
    const rows = creditVectors.slice(0, 5);
    const credit = await v2(base, '/v2/models/credit-gbt/versions/2.1.0/infer', {
      inputs: [{ name: 'features', shape: [5, 37], datatype: 'FP32', data: rows.map((r) => r.features) }],
    });
    assert.equal(credit.status, 200, JSON.stringify(credit.body).slice(0, 300));
    const pd = credit.body.outputs!.find((o) => o.name === 'probability')!;
    assert.deepEqual(pd.shape, [5, 1]);
    pd.data.forEach((p, i) => assert.ok(Math.abs((p as number) - rows[i]!.probabilityOfDefault) < 1e-5));
    const v = forecastVectors[0]!;
    const forecast = await v2(base, '/v2/models/forecast-qnn/infer', {
      inputs: [{ name: 'features', shape: [1, 24], datatype: 'FP32', data: v.features }],
    });
    const quantiles = forecast.body.outputs![0]!;
    assert.deepEqual([quantiles.name, quantiles.shape], ['quantiles', [1, 8, 7]]);
    quantiles.data.forEach((q, i) => assert.ok(Math.abs((q as number) - v.quantiles.flat()[i]!) < 1e-4));
  });

  it('binary tensors as tritonclient sends them: sentiment BYTES in, every output binary back', async () => {
    const data = [
      'Apple beats earnings expectations and raises guidance',
      'Société Générale slumps after a surprise loss — dividend cut',
    ];
    const { body, headers } = tritonRequest([{ name: 'text', shape: [2], datatype: 'BYTES', data }], { id: 'bin-1' });
    const res = await fetch(`${base}/v2/models/sentiment-bert/infer`, { method: 'POST', headers, body });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const { json, outputs } = readTritonResponse(
      Buffer.from(await res.arrayBuffer()),
      res.headers.get('inference-header-content-length'),
    );
    assert.equal(json.id, 'bin-1');
    assert.deepEqual(
      outputs.map((o) => [o.name, o.datatype, o.shape, o.parameters?.binary_data_size]),
      [
        ['probabilities', 'FP32', [2, 3], 24],
        ['label', 'BYTES', [2], 8 + 'positive'.length + 'negative'.length],
        ['truncated', 'BOOL', [2], 2],
      ],
    );
    assert.deepEqual(outputs[1]!.data, ['positive', 'negative']);
    assert.deepEqual(outputs[2]!.data, [false, false]);
    assert.equal(outputs[0]!.parameters?.labels, 'negative,neutral,positive');
    // The same texts as JSON: the same probabilities, to the float32 that FP32 holds.
    const asJson = await v2(base, '/v2/models/sentiment-bert/infer', texts(data));
    assert.deepEqual(
      outputs[0]!.data,
      asJson.body.outputs![0]!.data.map((p) => Math.fround(p as number)),
    );
  });

  it('binary tensors: credit FP32 rows in, one output binary and one JSON as asked', async () => {
    const rows = creditVectors.slice(0, 3);
    const input: ClientInput = {
      name: 'features',
      shape: [3, 37],
      datatype: 'FP32',
      data: rows.flatMap((r) => r.features),
    };
    const { body, headers } = tritonRequest([input], {
      outputs: [{ name: 'probability' }, { name: 'contributions', binary: false }],
    });
    const res = await fetch(`${base}/v2/models/credit-gbt/infer`, { method: 'POST', headers, body });
    assert.equal(res.status, 200, await res.clone().text());
    const { outputs } = readTritonResponse(
      Buffer.from(await res.arrayBuffer()),
      res.headers.get('inference-header-content-length'),
    );
    const [pd, contributions] = outputs;
    assert.deepEqual([pd!.name, pd!.shape, pd!.parameters?.binary_data_size], ['probability', [3, 1], 12]);
    assert.equal(pd!.data.length, 3);
    pd!.data.forEach((p, i) =>
      assert.ok(
        Math.abs((p as number) - rows[i]!.probabilityOfDefault) < 1e-5,
        `${p} vs ${rows[i]!.probabilityOfDefault}`,
      ),
    );
    assert.deepEqual(
      [contributions!.name, contributions!.parameters?.binary_data_size, contributions!.data.length],
      ['contributions', undefined, 3 * 37],
    );
    // Only JSON outputs asked for: the answer is plain JSON, no header.
    const jsonOut = tritonRequest([input], { outputs: [{ name: 'probability', binary: false }] });
    const plain = await fetch(`${base}/v2/models/credit-gbt/infer`, {
      method: 'POST',
      headers: jsonOut.headers,
      body: jsonOut.body,
    });
    assert.equal(plain.headers.get('inference-header-content-length'), null);
    assert.match(plain.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await plain.json()) as V2Response['body']).outputs![0]!.data.length, 3);
    // INT64 decodes, and no model here takes it: the datatype check answers as for JSON.
    const int64 = tritonRequest([{ name: 'features', shape: [1, 37], datatype: 'INT64', data: new Array(37).fill(1) }]);
    const refused = await fetch(`${base}/v2/models/credit-gbt/infer`, {
      method: 'POST',
      headers: int64.headers,
      body: int64.body,
    });
    assert.equal(refused.status, 400);
    assert.match(
      ((await refused.json()) as { error: string }).error,
      /input features must have datatype FP32, got "INT64"/,
    );
  });

  it('malformed binary tensors: 400 BAD_USER_INPUT naming the size or length that is wrong', async () => {
    const text = (data: string[], shape = [data.length]) =>
      tritonRequest([{ name: 'text', shape, datatype: 'BYTES', data }]);
    const withHeader = (json: unknown, binary: Buffer, header?: string) => {
      const head = Buffer.from(typeof json === 'string' ? json : JSON.stringify(json));
      return {
        body: new Uint8Array(Buffer.concat([head, binary])),
        headers: { 'Inference-Header-Content-Length': header ?? String(head.length) },
      };
    };
    const good = text(['Stocks rally']);
    const lengthPrefix = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n);
      return b;
    };
    const cases: Array<[string, { body: Uint8Array<ArrayBuffer>; headers: Record<string, string> }, RegExp]> = [
      [
        'sentiment-bert',
        { body: good.body, headers: { 'Inference-Header-Content-Length': 'abc' } },
        /Inference-Header-Content-Length must be an integer 0\.\.\d+ \(the body's length\), got "abc"/,
      ],
      [
        'sentiment-bert',
        { body: good.body, headers: { 'Inference-Header-Content-Length': String(good.body.length + 1) } },
        /Inference-Header-Content-Length must be an integer 0\.\.\d+/,
      ],
      [
        'sentiment-bert',
        { body: new Uint8Array(Buffer.concat([good.body, Buffer.from([0])])), headers: good.headers },
        /holds 17 bytes of binary tensor data after its \d+-byte JSON header, but the inputs' binary_data_size add up to 16/,
      ],
      [
        'sentiment-bert',
        withHeader(
          { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 40 } }] },
          Buffer.concat([lengthPrefix(2), Buffer.from('ok')]),
        ),
        /binary_data_size 40 runs past the binary data \(6 bytes left of 6\)/,
      ],
      [
        'sentiment-bert',
        withHeader(
          { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 6 } }] },
          Buffer.concat([lengthPrefix(9), Buffer.from('ok')]),
        ),
        /text\[0\]: its length says 9 bytes, only 2 are left/,
      ],
      [
        'sentiment-bert',
        withHeader(
          { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 2 } }] },
          Buffer.from('ok'),
        ),
        /text\[0\]: a BYTES element needs a 4-byte length, only 2 bytes are left/,
      ],
      ['sentiment-bert', text(['a', 'b'], [3]), /input text of shape \[3\] must hold 3 BYTES elements, got 2/],
      [
        'sentiment-bert',
        withHeader(
          { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 6 } }] },
          Buffer.concat([lengthPrefix(2), Buffer.from([0xc3, 0x28])]),
        ),
        /text\[0\] must be UTF-8 text/,
      ],
      [
        'sentiment-bert',
        withHeader(
          { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: -1 } }] },
          Buffer.alloc(0),
        ),
        /binary_data_size must be a non-negative integer, got -1/,
      ],
      [
        'sentiment-bert',
        withHeader(
          {
            inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['x'], parameters: { binary_data_size: 0 } }],
          },
          Buffer.alloc(0),
        ),
        /has both "data" and binary_data_size/,
      ],
      [
        'sentiment-bert',
        withHeader(
          { inputs: [{ name: 'text', shape: [1], datatype: 'UINT8', parameters: { binary_data_size: 1 } }] },
          Buffer.alloc(1),
        ),
        /datatype "UINT8" cannot be sent as binary data here; binary datatypes: FP32, INT64, BOOL, BYTES/,
      ],
      ['sentiment-bert', withHeader('{"inputs": [', Buffer.alloc(0)), /request body must be valid JSON/],
      [
        'credit-gbt',
        withHeader(
          { inputs: [{ name: 'features', shape: [1, 37], datatype: 'FP32', parameters: { binary_data_size: 144 } }] },
          Buffer.alloc(144),
        ),
        /features: binary_data_size must be 148 \(37 FP32 elements of shape \[1,37\]\), got 144/,
      ],
      [
        'credit-gbt',
        withHeader(
          { inputs: [{ name: 'features', shape: [1, 37], datatype: 'FP32', parameters: { binary_data_size: 148 } }] },
          Buffer.from(new Float32Array(37).fill(Number.NaN).buffer),
        ),
        /features\[0\] must be a finite FP32 number, got NaN/,
      ],
    ];
    for (const [model, request, message] of cases) {
      const res = await fetch(`${base}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      const answer = (await res.json()) as { error: string; code?: string };
      assert.equal(res.status, 400, `${message} -> ${JSON.stringify(answer)}`);
      assert.match(answer.error, message);
      assert.equal(answer.code, 'BAD_USER_INPUT', answer.error);
    }
    assert.equal(cases.length, 14);
  });

  it('malformed tensors: HTTP 400 with the protocol\'s { "error" } naming what is wrong, never a 500', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      [
        '/v2/models/sentiment-bert/infer',
        { inputs: [{ name: 'txt', shape: [1], datatype: 'BYTES', data: ['x'] }] },
        /must be named "text", got "txt"/,
      ],
      [
        '/v2/models/sentiment-bert/infer',
        { inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: [1] }] },
        /must have datatype BYTES, got "FP32"/,
      ],
      [
        '/v2/models/sentiment-bert/infer',
        { inputs: [{ name: 'text', shape: [1, 2], datatype: 'BYTES', data: ['a', 'b'] }] },
        /must have shape \[n\], got \[1,2\]/,
      ],
      [
        '/v2/models/sentiment-bert/infer',
        texts(['ok', 42 as unknown as string]),
        /text\[1\] must be non-empty text, got 42/,
      ],
      [
        '/v2/models/sentiment-bert/infer',
        { inputs: [{ name: 'text', shape: [3], datatype: 'BYTES', data: ['a', 'b'] }] },
        /must hold 3 elements in "data", got 2/,
      ],
      ['/v2/models/sentiment-bert/infer', texts(new Array(257).fill('x')), /must hold 1\.\.256 items, got 257/],
      [
        '/v2/models/sentiment-bert/infer',
        { ...texts(['x']), outputs: [{ name: 'mood' }] },
        /unknown output "mood"; outputs: probabilities, label, truncated/,
      ],
      ['/v2/models/sentiment-bert/infer', { inputs: [] }, /"inputs" must hold exactly one tensor, "text", got 0/],
      [
        '/v2/models/credit-gbt/infer',
        { inputs: [{ name: 'features', shape: [1, 36], datatype: 'FP32', data: new Array(36).fill(0) }] },
        /must have shape \[n, 37\], got \[1,36\]/,
      ],
      [
        '/v2/models/credit-gbt/infer',
        { inputs: [{ name: 'features', shape: [1, 37], datatype: 'FP32', data: [...new Array(36).fill(0), 'x'] }] },
        /features\[36\] must be a finite FP32 number, got "x"/,
      ],
      ['/v2/models/credit-gbt/infer', '{"inputs": [', /request body must be valid JSON/],
      ['/v2/models/credit-gbt/infer', [], /must be a JSON object with "inputs"/],
    ];
    for (const [route, body, message] of cases) {
      const res = await v2(base, route, body);
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)} -> ${JSON.stringify(res.body)}`);
      assert.match(res.body.error!, message);
    }
  });
});

describe('Open Inference Protocol v2: API keys and rate limits as for GraphQL', () => {
  let gw: Gateway;
  const NEWS = 'news-key-0123456789abcdef01';
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      API_KEYS: JSON.stringify([
        { name: 'news', sha256: hashApiKey(NEWS), scopes: ['credit:assess'] },
        { name: 'desk', sha256: hashApiKey(`${NEWS}x`), scopes: ['sentiment:read'] },
      ]),
      RATE_LIMIT_PER_SECOND: '1',
      RATE_LIMIT_BURST: '100',
      MAX_QUERY_COMPLEXITY: '100',
    });
  });
  after(() => gw.stop());

  it('401 without a key, 403 without the scope, 429 with Retry-After past the budget', async () => {
    const base = gw.url.replace('/graphql', '');
    const route = '/v2/models/sentiment-bert/infer';
    assert.equal((await v2(base, route, texts(['x']))).status, 401);
    const forbidden = await v2(base, route, texts(['x']), { authorization: `Bearer ${NEWS}` });
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body.error!, /lacks the scope sentiment:read/);
    const desk = { 'x-api-key': `${NEWS}x` };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await v2(base, route, texts(new Array(4).fill('Stocks rally')), desk)).status);
    assert.deepEqual(statuses.slice(0, 2), [200, 200]);
    assert.equal(statuses[3], 429, statuses.join(','));
  });

  it('model metadata and model readiness need a key, as GraphQL models does; /v2/health stays open to probes', async () => {
    const base = gw.url.replace('/graphql', '');
    for (const route of ['/v2/models/sentiment-bert', '/v2/models/sentiment-bert/ready']) {
      const anonymous = await fetch(`${base}${route}`);
      assert.equal(anonymous.status, 401, route);
      assert.match(((await anonymous.json()) as { error: string }).error, /a valid API key is required/);
      assert.equal(
        (await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${NEWS}` } })).status,
        200,
        route,
      );
    }
    assert.equal((await fetch(`${base}/v2/health/ready`)).status, 200);
  });
});

describe('Open Inference Protocol v2: x-request-timeout and client disconnects reach the batchers, as on GraphQL', () => {
  let gw: Gateway;
  let base: string;
  before(async () => {
    // A 10,000-row backlog queues for seconds on a busy machine: only the request's own deadline may expire it.
    gw = await startTestGateway({
      MODELS: 'credit-gbt,sentiment-bert',
      REQUEST_TIMEOUT_MAX_MS: '30000',
      QUEUE_TIMEOUT_MS: '120000',
    });
    base = gw.url.replace('/graphql', '');
  });
  after(() => gw.stop());
  const metric = async (line: RegExp) => Number(line.exec((await scrapeMetrics(gw.url, 'unused')).text)?.[1] ?? 0);
  /** Polls observable state (no fixed sleeps) until `ready()` holds; fails after a minute. */
  const until = async (ready: () => boolean | Promise<boolean>, what: string) => {
    for (
      const deadline = performance.now() + 60_000;
      !(await ready());
      await new Promise((resolve) => setTimeout(resolve, 2))
    ) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };

  it("a deadline that passes while the items wait: 504 DEADLINE_EXCEEDED in the protocol's shape, the items dropped and counted", async () => {
    const credit = () => gw.registry.get('credit-gbt')!;
    const expired =
      /^gateway_inference_dropped_items_total\{model="credit-gbt",reason="deadline",priority="normal"\} (\S+)$/m;
    const before = await metric(expired);
    const rows = Array.from({ length: 10_000 }, (_, i) => creditVectors[i % creditVectors.length]!.features).flat();
    const flood = tritonRequest([{ name: 'features', shape: [10_000, 37], datatype: 'FP32', data: rows }]);
    const flooded = fetch(`${base}/v2/models/credit-gbt/infer`, {
      method: 'POST',
      headers: flood.headers,
      body: flood.body,
    });
    await until(() => credit().queued > 2048, 'a backlog in the credit batcher');
    // The same (anonymous) caller's row waits behind its own backlog, far longer than 20 ms.
    const started = performance.now();
    const res = await v2(
      base,
      '/v2/models/credit-gbt/infer',
      { inputs: [{ name: 'features', shape: [1, 37], datatype: 'FP32', data: creditVectors[0]!.features }] },
      { 'x-request-timeout': '20' },
    );
    assert.equal(res.status, 504, JSON.stringify(res.body));
    assert.equal(res.body.code, 'DEADLINE_EXCEEDED');
    assert.match(res.body.error!, /deadline of 20 ms \(x-request-timeout\) passed after \d+ ms in the queue/);
    assert.ok(performance.now() - started >= 20);
    assert.equal((await flooded).status, 200, 'the backlog itself had no deadline');
    assert.equal(await metric(expired), before + 1);
    const refused = await v2(base, '/v2/models/credit-gbt/infer', {}, { 'x-request-timeout': '30001' });
    assert.equal(refused.status, 400);
    assert.deepEqual(
      [refused.body.code, refused.body.error],
      [
        'BAD_REQUEST',
        'x-request-timeout must be a whole number of milliseconds in 1..30000 (REQUEST_TIMEOUT_MAX_MS), got "30001"',
      ],
    );
  });

  it('a client that aborts a 256-text request: its texts still queued are dropped, none inferred after the abort is seen', async (t) => {
    const model = () => gw.registry.get('sentiment-bert')!;
    const dropped =
      /^gateway_inference_dropped_items_total\{model="sentiment-bert",reason="cancelled",priority="normal"\} (\S+)$/m;
    const aborts = /^gateway_requests_cancelled_total (\S+)$/m;
    const counts = async () => ({
      inferred: model().stats.items,
      dropped: await metric(dropped),
      aborts: await metric(aborts),
    });
    const start = await counts();
    const controller = new AbortController();
    const data = Array.from(
      { length: 256 },
      (_, i) => `Company ${i} reports quarterly results above expectations and raises guidance for the year`,
    );
    const sent = fetch(`${base}/v2/models/sentiment-bert/infer`, {
      method: 'POST',
      signal: controller.signal,
      body: JSON.stringify(texts(data)),
    }).catch((error: Error) => error);
    await until(() => model().stats.items > start.inferred, 'the first batch of the request to be inferred');
    controller.abort();
    assert.equal(((await sent) as Error).name, 'AbortError');
    // Seen once the gateway counts the abort and the batch running then has finished: each text inferred or dropped.
    const settled = (c: Awaited<ReturnType<typeof counts>>) =>
      c.aborts === start.aborts + 1 && c.inferred - start.inferred + c.dropped - start.dropped === 256;
    await until(async () => settled(await counts()), 'the abort to be seen and the running batch to finish');
    const end = await counts();
    assert.ok(
      end.dropped - start.dropped >= 64,
      `${end.dropped - start.dropped} texts dropped, ${end.inferred - start.inferred} inferred`,
    );
    assert.equal(model().queued, 0);
    // Nothing of it is inferred later: the next request's one text is all that runs.
    assert.equal((await v2(base, '/v2/models/sentiment-bert/infer', texts(['Shares rally']))).status, 200);
    const next = await counts();
    assert.deepEqual([next.inferred - end.inferred, next.dropped - end.dropped], [1, 0]);
    t.diagnostic(
      `256 texts over v2: ${end.inferred - start.inferred} inferred in batches started before the abort was seen, ${end.dropped - start.dropped} dropped`,
    );
  });
});
