import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSubgraph, printSubgraph } from '../../src/graphql/federation.js';
import { estimateComplexity } from '../../src/graphql/limits-plugin.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';
import { DOMAINS } from '../../src/domains/index.js';
import { REPO_ROOT } from '../../src/platform/config.js';
import { routerCostModel } from '../support/ibm-cost.js';

const account = {
  creditLimit: 1000,
  age: 30,
  education: 'UNIVERSITY',
  repaymentStatus: [0, 0, 0, 0, 0, 0],
  billAmounts: [1, 1, 1, 1, 1, 1],
  paymentAmounts: [1, 1, 1, 1, 1, 1],
};
const series = {
  series: Array.from({ length: 40 }, (_, i) => ({ date: `2025-01-${String(i + 1).padStart(2, '0')}`, close: 100 + i })),
  horizon: 5,
};

/** Representative operations beyond examples/: inline literals, aliases, fragments, nested entities, single inputs. */
const CASES: Array<{ name: string; query: string; variables?: Record<string, unknown> }> = [
  {
    name: 'three texts, inline',
    query: '{ sentiment(texts: ["a", "b", "c"]) { label score scores { label probability } } }',
  },
  {
    name: 'aliases add up',
    query: '{ a: sentiment(texts: ["a"]) { label } b: sentiment(texts: ["b", "c"]) { label model { name } } }',
  },
  {
    name: 'one explained text',
    query: '{ sentiment(texts: ["Profit rose"]) { label explanation(top: 3) { label words { word weight } } } }',
  },
  {
    name: 'one account',
    query: 'query($a: CardAccountInput!) { creditAssessment(account: $a) { score decision reasons { code } } }',
    variables: { a: account },
  },
  {
    name: '250 accounts',
    query: 'query($a: [CardAccountInput!]!) { creditAssessments(accounts: $a) { score } }',
    variables: { a: Array.from({ length: 250 }, () => account) },
  },
  {
    name: 'a batch of series with a fragment',
    query:
      'query($s: [ForecastInput!]!) { marketForecasts(inputs: $s) { ...F } } fragment F on MarketForecast { lastClose points { mean intervals { lower upper } } }',
    variables: { s: [series, series, series] },
  },
  {
    name: 'a ticker with its forecast and default-limit prices',
    query: '{ ticker(symbol: "ACME") { symbol forecast(horizon: 3) { lastClose } prices { date close } } }',
  },
  { name: 'symbols and models', query: '{ symbols { symbol rows } models { name state } }' },
  {
    name: 'targeted sentiment',
    query:
      '{ targetedSentiment(items: [{ text: "Apple up", target: "Apple" }, { text: "Samsung down", target: "Samsung" }]) { label target } }',
  },
];

describe('@cost/@listSize in the subgraph SDL state what the gateway charges', () => {
  let subgraph: GraphQLSchema;
  let routerCost: ReturnType<typeof routerCostModel>;
  before(async () => {
    subgraph = buildSubgraph(await buildGatewaySchema(DOMAINS));
    // A router's default list size of 50 would show any list the SDL forgot to size.
    routerCost = routerCostModel(printSubgraph(subgraph), 50);
  });
  const gatewayCost = (query: string, variables: Record<string, unknown> = {}) =>
    estimateComplexity(subgraph, parse(query), undefined, variables);

  it('for every operation of examples/ with its variables', () => {
    const dir = path.join(REPO_ROOT, 'examples');
    const operations = readdirSync(dir)
      .filter((f) => f.endsWith('.graphql'))
      .sort();
    assert.equal(operations.length, 6);
    for (const file of operations) {
      const query = readFileSync(path.join(dir, file), 'utf8');
      const varsFile = path.join(dir, file.replace(/\.graphql$/, '.variables.json'));
      const variables = readdirSync(dir).includes(path.basename(varsFile))
        ? (JSON.parse(readFileSync(varsFile, 'utf8')) as Record<string, unknown>)
        : {};
      const expected = gatewayCost(query, variables);
      assert.ok(expected > 1, `${file} costs something`);
      assert.equal(routerCost(parse(query), variables), expected, file);
    }
  });

  for (const c of CASES) {
    it(`for ${c.name}`, () => {
      assert.equal(routerCost(parse(c.query), c.variables), gatewayCost(c.query, c.variables));
    });
  }

  it('the SDL says so in the directives routers read (federation 2.9 imports)', () => {
    const sdl = printSubgraph(subgraph);
    assert.match(
      sdl,
      /@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.9", import: \["@key", "@cost", "@listSize"\]\)/,
    );
    assert.match(
      sdl,
      /sentiment\(texts: \[String!\]! @cost\(weight: 10\)\): \[SentimentResult!\]! @cost\(weight: -11\) @listSize\(assumedSize: 1\)/,
    );
    assert.match(sdl, /creditAssessments\(accounts: \[CardAccountInput!\]! @cost\(weight: 1\)\)/);
    assert.match(sdl, /marketForecasts\(inputs: \[ForecastInput!\]! @cost\(weight: 20\)\)/);
  });

  it('where integer weights cannot follow the gateway, the difference is the documented one', () => {
    // An explanation runs per text: the gateway charges it per text, a router once (it cannot multiply by a list argument's length).
    const explained = '{ sentiment(texts: ["a", "b", "c"]) { label explanation { label } } }';
    assert.equal(gatewayCost(explained) - routerCost(parse(explained)), 2 * 490);
    // Rows are charged 1 per 10 of `limit`; the SDL states the rows of the default limit (1,000 for prices: 100).
    for (const limit of [10, 1000, 5000]) {
      const rows = `{ prices(symbol: "ACME", limit: ${limit}) { date close } }`;
      assert.equal(gatewayCost(rows) - routerCost(parse(rows)), Math.ceil(limit / 10) - 100, `limit ${limit}`);
    }
  });
});
