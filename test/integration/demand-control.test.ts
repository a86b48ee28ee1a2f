import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { codes, gql, startTestGateway, type GraphQLResponse } from '../support/gateway.js';

interface Cost {
  estimated: number | null;
  charged: number;
  maxComplexity: number;
  mode: string;
  budget: { remaining: number; burst: number; perSecond: number; resetSeconds: number } | null;
}
const costOf = (r: GraphQLResponse<unknown>) => (r.body as { extensions?: { cost?: Cost } }).extensions?.cost;
/** What admission charges before parsing: 1 plus 1 per 100 characters of query text. */
const preParse = (query: string) => 1 + Math.floor(query.length / 100);

const { input } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'forecast.variables.json'), 'utf8')) as {
  input: unknown;
};
const FORECAST = 'query($input: ForecastInput!) { marketForecast(input: $input) { lastClose } }'; // 20 per series + 1 field
const ROWS = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `p${i}: prices(symbol: "ACME", limit: 1000) { date }`).join(' ')} }`; // 101 each

function assertHeadersMatch(r: GraphQLResponse<unknown>, cost: Cost): void {
  assert.equal(r.headers.get('x-cost'), cost.estimated === null ? null : String(cost.estimated));
  assert.equal(r.headers.get('x-cost-charged'), String(cost.charged));
  assert.equal(r.headers.get('x-ratelimit-limit'), String(cost.budget!.burst));
  assert.equal(r.headers.get('x-ratelimit-remaining'), String(cost.budget!.remaining));
  assert.equal(r.headers.get('x-ratelimit-reset'), String(cost.budget!.resetSeconds));
}

describe("demand control (enforce): every response says its cost and the caller's budget", () => {
  let gw: Gateway;
  // A budget that does not refill during the test, so every unit taken shows.
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'forecast-qnn',
      RATE_LIMIT_PER_SECOND: '0.001',
      RATE_LIMIT_BURST: '1000',
      MAX_QUERY_COMPLEXITY: '250',
    });
  });
  after(() => gw.stop());
  let remaining = 1000;

  it('an accepted request on the direct path: cost and budget in extensions and headers, the budget down by exactly what was charged', async () => {
    const r = await gql(gw.url, FORECAST, { input });
    assert.equal(r.status, 200);
    assert.equal(typeof (r.body.data as { marketForecast: { lastClose: number } }).marketForecast.lastClose, 'number');
    const cost = costOf(r)!;
    assert.deepEqual(cost, {
      estimated: 21,
      charged: 21,
      maxComplexity: 250,
      mode: 'enforce',
      budget: {
        remaining: remaining - preParse(FORECAST) - 21,
        burst: 1000,
        perSecond: 0.001,
        resetSeconds: Math.ceil((preParse(FORECAST) + 21) / 0.001),
      },
    });
    assertHeadersMatch(r, cost);
    remaining = cost.budget!.remaining;
  });

  it('an accepted GET on the Express path says the same', async () => {
    const query = '{ symbols { symbol } }';
    const res = await fetch(`${gw.url}?query=${encodeURIComponent(query)}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    const r = {
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as GraphQLResponse<unknown>['body'],
    };
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const cost = costOf(r)!;
    assert.equal(cost.estimated, 2);
    assert.equal(cost.charged, 2);
    assert.equal(cost.budget!.remaining, remaining - preParse(query) - 2);
    assertHeadersMatch(r, cost);
    remaining = cost.budget!.remaining;
  });

  it('a document refused for its complexity shows what it would have cost and what the refusal charged', async () => {
    const query = ROWS(3);
    const r = await gql(gw.url, query);
    assert.equal(r.status, 400);
    assert.deepEqual(codes(r), ['QUERY_TOO_COMPLEX']);
    assert.equal(r.body.data, undefined);
    const cost = costOf(r)!;
    assert.equal(cost.estimated, 303);
    assert.equal(cost.charged, 250);
    assert.equal(cost.budget!.remaining, remaining - preParse(query) - 250);
    assertHeadersMatch(r, cost);
    remaining = cost.budget!.remaining;
  });

  it('a document that does not parse: no estimate, nothing charged for complexity, the budget still shown', async () => {
    const query = '{ symbols { symbol }';
    const r = await gql(gw.url, query);
    assert.deepEqual(codes(r), ['GRAPHQL_PARSE_FAILED']);
    const cost = costOf(r)!;
    assert.equal(cost.estimated, null);
    assert.equal(cost.charged, 0);
    assert.equal(cost.budget!.remaining, remaining - preParse(query));
    assertHeadersMatch(r, cost);
    remaining = cost.budget!.remaining;
  });

  it('a request refused for an empty budget shows its cost, nothing charged, and what is left', async () => {
    const query = ROWS(2); // 202 units
    let r: GraphQLResponse<unknown> | undefined;
    for (let i = 0; i < 10 && r?.status !== 429; i++) r = await gql(gw.url, query);
    assert.equal(r!.status, 429, 'the budget ran out within 10 requests');
    assert.deepEqual(codes(r!), ['RATE_LIMITED']);
    const cost = costOf(r!)!;
    assert.equal(cost.estimated, 202);
    assert.equal(cost.charged, 0);
    assert.ok(cost.budget!.remaining < 202, `remaining ${cost.budget!.remaining}`);
    assertHeadersMatch(r!, cost);
  });
});

describe('demand control (measure): over-limit documents run, are counted, and still pay', () => {
  let gw: Gateway;
  const TOKEN = 'metrics-token-0123456789';
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'forecast-qnn',
      DEMAND_CONTROL: 'measure',
      MAX_QUERY_COMPLEXITY: '100',
      RATE_LIMIT_PER_SECOND: '0.001',
      RATE_LIMIT_BURST: '250',
      METRICS_TOKEN: TOKEN,
    });
  });
  after(() => gw.stop());
  const wouldRefuse = async () => {
    const text = await (
      await fetch(gw.url.replace('/graphql', '/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    const match = /^gateway_demand_control_would_refuse_total (\S+)$/m.exec(text);
    assert.ok(match, 'the counter is exported');
    return Number(match[1]);
  };

  it('a document over MAX_QUERY_COMPLEXITY is executed, counted in gateway_demand_control_would_refuse_total, and charged', async () => {
    assert.equal(await wouldRefuse(), 0);
    const under = await gql(gw.url, '{ symbols { symbol } }');
    assert.equal(under.status, 200);
    assert.equal(await wouldRefuse(), 0, 'an operation within the limit is not counted');
    const query = ROWS(2);
    const r = await gql<Record<string, unknown[]>, never>(gw.url, query);
    assert.equal(r.status, 200, JSON.stringify(r.body.errors));
    assert.deepEqual(Object.keys(r.body.data!).sort(), ['p0', 'p1']);
    const cost = costOf(r)!;
    assert.equal(cost.mode, 'measure');
    assert.equal(cost.estimated, 202);
    assert.equal(cost.charged, 202, 'the rate limiter is not bypassed');
    assert.equal(cost.budget!.remaining, costOf(under)!.budget!.remaining - preParse(query) - 202);
    assert.equal(await wouldRefuse(), 1);
  });

  it('a document dearer than the whole bucket is charged the bucket, and the next one waits for the budget', async () => {
    const big = await gql(gw.url, ROWS(3)); // 303 > burst 250
    // The bucket holds less than 250 after the first test: refused for budget, not for complexity.
    assert.deepEqual(codes(big), ['RATE_LIMITED']);
    assert.equal(costOf(big)!.estimated, 303);
    assert.equal(costOf(big)!.charged, 0);
    assert.match(
      big.body.errors![0]!.message,
      /this query costs 303 units \(charged 250, the whole bucket, in measure mode\)/,
    );
    assert.equal(await wouldRefuse(), 2, 'counted when estimated, whatever the budget then says');
  });
});
