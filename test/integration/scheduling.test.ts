import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashApiKey } from '../../src/platform/api-keys.js';
import type { Gateway } from '../../src/server/gateway.js';
import { sampleAccount } from '../support/accounts.js';
import { codes, gql, scrapeMetrics, startTestGateway } from '../support/gateway.js';

const KEYS = [
  {
    name: 'interactive',
    key: 'interactive-key-0123456789abcdef',
    scopes: ['credit:assess', 'sentiment:read'],
    priority: 'high',
  },
  {
    name: 'bulk',
    key: 'bulk-key-0123456789abcdef012345',
    scopes: ['credit:assess', 'sentiment:read'],
    priority: 'low',
  },
  { name: 'plain', key: 'plain-key-0123456789abcdef01234', scopes: ['credit:assess', 'sentiment:read'] }, // no priority: normal
];
const bearer = (name: string) => ({ authorization: `Bearer ${KEYS.find((k) => k.name === name)!.key}` });
const ASSESS = 'query($a: [CardAccountInput!]!) { creditAssessments(accounts: $a) { score } }';
const FLOOD = Array.from({ length: 10_000 }, (_, i) => sampleAccount(i));

/** Polls observable state (no fixed sleeps): resolves once `ready()` holds, fails after `ms`. */
async function until(ready: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('priorities, deadlines and cancellation over HTTP', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'credit-gbt,sentiment-bert',
      API_KEYS: JSON.stringify(KEYS.map(({ key, ...k }) => ({ ...k, sha256: hashApiKey(key) }))),
      REQUEST_TIMEOUT_MAX_MS: '30000',
      QUEUE_TIMEOUT_MS: '120000', // three 10,000-account requests queue for seconds on a busy machine
    });
  });
  after(() => gw.stop());
  const metric = async (line: RegExp) => Number(line.exec((await scrapeMetrics(gw.url, 'unused')).text)?.[1] ?? 0);
  const credit = () => gw.registry.get('credit-gbt')!;

  it('a high-priority 1-account request during a flood of 10,000-account requests from a low-priority key completes before the flood', async () => {
    const done: Array<{ who: string; at: number; status: number }> = [];
    const flood = Array.from({ length: 3 }, async () => {
      const res = await gql(gw.url, ASSESS, { a: FLOOD }, bearer('bulk'));
      done.push({ who: 'bulk', at: performance.now(), status: res.status });
      assert.equal((res.body.data as { creditAssessments: unknown[] }).creditAssessments.length, 10_000);
    });
    await until(() => credit().queued > 0, 'the flood to queue in the credit batcher');
    const res = await gql(gw.url, ASSESS, { a: [sampleAccount(1)] }, bearer('interactive'));
    done.push({ who: 'interactive', at: performance.now(), status: res.status });
    assert.equal((res.body.data as { creditAssessments: unknown[] }).creditAssessments.length, 1);
    await Promise.all(flood);
    assert.equal(done.length, 4);
    assert.ok(done.every((d) => d.status === 200));
    assert.notEqual(done.at(-1)!.who, 'interactive', `order of completion: ${done.map((d) => d.who).join(', ')}`);
    assert.ok(
      (await metric(/^gateway_inference_item_queue_seconds_count\{model="credit-gbt",priority="high"\} (\S+)$/m)) >= 1,
    );
    assert.ok(
      (await metric(/^gateway_inference_item_queue_seconds_count\{model="credit-gbt",priority="low"\} (\S+)$/m)) >=
        30_000,
    );
  });

  it('a request may lower its priority with x-priority but never raise it', async () => {
    const high = /^gateway_inference_item_queue_seconds_count\{model="credit-gbt",priority="high"\} (\S+)$/m;
    const low = /^gateway_inference_item_queue_seconds_count\{model="credit-gbt",priority="low"\} (\S+)$/m;
    const [high0, low0] = [await metric(high), await metric(low)];
    assert.equal(
      (await gql(gw.url, ASSESS, { a: [sampleAccount(2)] }, { ...bearer('bulk'), 'x-priority': 'high' })).status,
      200,
    );
    assert.equal(
      (await gql(gw.url, ASSESS, { a: [sampleAccount(3)] }, { ...bearer('interactive'), 'x-priority': 'low' })).status,
      200,
    );
    assert.equal(await metric(high), high0);
    assert.equal(await metric(low), low0 + 2);
  });

  it('refuses a malformed x-priority or x-request-timeout with 400 BAD_REQUEST, saying what is expected', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'x-priority': 'urgent' }, /x-priority must be one of high, normal, low .*got "urgent"/],
      [
        { 'x-request-timeout': 'soon' },
        /x-request-timeout must be a whole number of milliseconds in 1\.\.30000 \(REQUEST_TIMEOUT_MAX_MS\), got "soon"/,
      ],
      [{ 'x-request-timeout': '0' }, /in 1\.\.30000 .*got "0"/],
      [{ 'x-request-timeout': '30001' }, /in 1\.\.30000 .*got "30001"/],
    ];
    for (const [headers, message] of cases) {
      const res = await gql(gw.url, ASSESS, { a: [sampleAccount(4)] }, { ...bearer('plain'), ...headers });
      assert.equal(res.status, 400);
      assert.deepEqual(codes(res), ['BAD_REQUEST']);
      assert.match(res.body.errors![0]!.message, message);
    }
    assert.equal(cases.length, 4);
    // The Express route (a gzip body does not take the direct path) checks the same.
    const express = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=latin1', ...bearer('plain'), 'x-priority': 'urgent' },
      body: '{}',
    });
    assert.equal(express.status, 400);
    const v2 = await fetch(gw.url.replace('/graphql', '/v2/models/sentiment-bert/infer'), {
      method: 'POST',
      headers: { ...bearer('plain'), 'x-priority': 'urgent' },
      body: '{}',
    });
    assert.equal(v2.status, 400);
    assert.match(
      ((await v2.json()) as { error: string }).error,
      /x-priority must be one of high, normal, low, got "urgent"/,
    );
  });

  it("expires queued items at the request's x-request-timeout: DEADLINE_EXCEEDED with HTTP 504, counted in metrics", async () => {
    const expired =
      /^gateway_inference_dropped_items_total\{model="credit-gbt",reason="deadline",priority="low"\} (\S+)$/m;
    const before = await metric(expired);
    const flood = gql(gw.url, ASSESS, { a: FLOOD }, bearer('bulk'));
    await until(() => credit().queued > 2048, 'a backlog in the credit batcher');
    // The same caller's items wait behind its own backlog, far longer than 20 ms.
    const started = performance.now();
    const res = await gql(gw.url, ASSESS, { a: [sampleAccount(5)] }, { ...bearer('bulk'), 'x-request-timeout': '20' });
    assert.equal(res.status, 504);
    assert.deepEqual(codes(res), ['DEADLINE_EXCEEDED']);
    assert.match(
      res.body.errors![0]!.message,
      /deadline of 20 ms \(x-request-timeout\) passed after \d+ ms in the queue/,
    );
    assert.equal((await flood).status, 200, 'the backlog itself had no deadline');
    assert.ok(performance.now() - started >= 20);
    assert.equal(await metric(expired), before + 1);
  });

  it('a caller that aborts a 256-text request leaves none of its queued texts inferred after the abort is seen', async (t) => {
    const model = () => gw.registry.get('sentiment-bert')!;
    const cancelled =
      /^gateway_inference_dropped_items_total\{model="sentiment-bert",reason="cancelled",priority="normal"\} (\S+)$/m;
    const requests = /^gateway_requests_cancelled_total (\S+)$/m;
    const [items0, cancelled0, requests0] = [model().stats.items, await metric(cancelled), await metric(requests)];
    const texts = Array.from(
      { length: 256 },
      (_, i) => `Company ${i} reports quarterly results above expectations and raises guidance for the year`,
    );
    const controller = new AbortController();
    const sent = fetch(gw.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', ...bearer('plain') },
      body: JSON.stringify({
        query: 'query($t: [String!]!) { sentiment(texts: $t) { label } }',
        variables: { t: texts },
      }),
    }).catch((error: Error) => error);
    await until(() => model().stats.items > items0, 'the first batch of the request to be inferred');
    controller.abort();
    assert.equal(((await sent) as Error).name, 'AbortError');
    await until(async () => (await metric(requests)) === requests0 + 1, 'the gateway to see the abort');
    // The batch running when the abort was seen finishes; every text still queued then was dropped.
    await until(
      async () => model().stats.items - items0 + (await metric(cancelled)) - cancelled0 === 256,
      'the running batch to finish',
    );
    const dropped = (await metric(cancelled)) - cancelled0;
    const inferred = model().stats.items - items0;
    assert.ok(dropped >= 64, `${dropped} texts dropped, ${inferred} inferred`);
    assert.equal(model().queued, 0);
    // Nothing of it is inferred later: another request's texts are the only ones that run next.
    assert.equal(
      (await gql(gw.url, '{ sentiment(texts: ["Shares rally"]) { label } }', undefined, bearer('plain'))).status,
      200,
    );
    assert.equal(model().stats.items - items0, inferred + 1);
    assert.equal((await metric(cancelled)) - cancelled0, dropped);
    t.diagnostic(
      `256 texts: ${inferred} inferred in batches started before the abort was seen, ${dropped} dropped at the abort, 0 inferred after it`,
    );
  });
});

describe('in-flight refusals counted per priority (MAX_CONCURRENT_REQUESTS)', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'sentiment-bert',
      MAX_CONCURRENT_REQUESTS: '2',
      API_KEYS: JSON.stringify(KEYS.map(({ key, ...k }) => ({ ...k, sha256: hashApiKey(key) }))),
    });
  });
  after(() => gw.stop());
  const refusals = async () =>
    Object.fromEntries(
      [
        ...(await scrapeMetrics(gw.url, 'unused')).text.matchAll(
          /^gateway_inflight_refusals_total\{priority="(\w+)"\} (\d+)$/gm,
        ),
      ].map((m) => [m[1], Number(m[2])]),
    );

  it('a low-priority flood is refused its excess, each refusal counted under low; a high-priority key beside it is never refused', async () => {
    assert.deepEqual(await refusals(), { high: 0, normal: 0, low: 0 });
    // Texts new to the answer cache, or a request is answered before the next one arrives.
    let sent = 0;
    const texts = () =>
      Array.from({ length: 32 }, (_, i) =>
        `Quarterly results of company ${i} (${sent++}) beat expectations on strong demand. `.repeat(20),
      );
    const SENTIMENT = 'query($t: [String!]!) { sentiment(texts: $t) { label } }';
    let flooding = true;
    const floodStatuses: number[] = [];
    const flood = Array.from({ length: 8 }, async () => {
      while (flooding) floodStatuses.push((await gql(gw.url, SENTIMENT, { t: texts() }, bearer('bulk'))).status);
    });
    const interactive: number[] = [];
    while (interactive.length < 4 || !floodStatuses.includes(503)) {
      interactive.push(
        (await gql(gw.url, '{ sentiment(texts: ["Shares rally"]) { label } }', undefined, bearer('interactive')))
          .status,
      );
    }
    flooding = false;
    await Promise.all(flood);
    assert.ok(
      interactive.every((s) => s === 200),
      `interactive: ${interactive.join(',')}`,
    );
    assert.ok(
      floodStatuses.every((s) => s === 200 || s === 503),
      `flood: ${floodStatuses.join(',')}`,
    );
    assert.deepEqual(await refusals(), { high: 0, normal: 0, low: floodStatuses.filter((s) => s === 503).length });
    // x-priority lowers a request: the plain (normal) key asking low is counted under low.
    const low = (await refusals()).low!;
    const held = Array.from({ length: 6 }, () =>
      gql(gw.url, SENTIMENT, { t: texts() }, { ...bearer('plain'), 'x-priority': 'low' }),
    );
    const statuses = (await Promise.all(held)).map((r) => r.status);
    assert.ok(statuses.includes(503), statuses.join(','));
    assert.deepEqual(await refusals(), { high: 0, normal: 0, low: low + statuses.filter((s) => s === 503).length });
  });
});
