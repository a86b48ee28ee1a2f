import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { CreditAssessmentsDocument, NewsSentimentDocument } from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { gql, startTestGateway } from '../support/gateway.js';
import { startOtlpCollector, type OtlpSpan } from '../support/otlp-collector.js';
import { hashApiKey } from '../../src/platform/api-keys.js';
import { gatewayConfig } from '../../deploy/gateway.config.js';

/** Another team's subgraph: positions that reference this gateway's Ticker and CreditAccount entities. */
const PORTFOLIO = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { positions: [Position!]! }
  type Position { id: ID! quantity: Float! ticker: Ticker! account: CreditAccount! }
  type Ticker @key(fields: "symbol", resolvable: false) { symbol: String! }
  type CreditAccount @key(fields: "accountId", resolvable: false) { accountId: String! }
`);
const POSITIONS = [
  { id: 'p1', quantity: 100, ticker: { symbol: 'DEMO' }, account: { accountId: 'fed-1' } },
  { id: 'p2', quantity: 50, ticker: { symbol: 'DEMA' }, account: { accountId: 'fed-2' } },
  { id: 'p3', quantity: 25, ticker: { symbol: 'DEMB' }, account: { accountId: 'fed-1' } },
];

describe('Apollo Federation 2: this gateway as a subgraph beside another, behind Hive Gateway', () => {
  let dir: string;
  let intel: Gateway;
  let portfolio: ApolloServer;
  let router: http.Server;
  let routerUrl: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'federation-'));
    const db = path.join(dir, 'prices.sqlite');
    for (const symbol of ['DEMO', 'DEMA', 'DEMB']) {
      await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'import-prices.js'), symbol, path.join(REPO_ROOT, 'examples', 'data', 'DEMO.csv')], { env: { ...process.env, PRICE_DB_PATH: db } });
    }
    intel = await startTestGateway({ MODELS: 'forecast-qnn,credit-gbt,sentiment-bert', PRICE_DB_PATH: db, ALLOW_OPEN_ADMIN: 'true' });
    portfolio = new ApolloServer({
      schema: buildSubgraphSchema({ typeDefs: PORTFOLIO, resolvers: { Query: { positions: () => POSITIONS } } }), plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const { url: portfolioUrl } = await startStandaloneServer(portfolio, { listen: { port: 0, host: '127.0.0.1' } });
    const composed = composeServices([
      { name: 'intel', typeDefs: parse(readFileSync(path.join(REPO_ROOT, 'schema', 'subgraph.graphql'), 'utf8')), url: intel.url },
      { name: 'portfolio', typeDefs: PORTFOLIO, url: portfolioUrl },
    ]);
    assert.deepEqual(composed.errors ?? [], []);
    router = http.createServer(createGatewayRuntime({ supergraph: composed.supergraphSdl!, logging: false })).listen(0, '127.0.0.1');
    await new Promise((resolve) => router.once('listening', resolve));
    routerUrl = `http://127.0.0.1:${(router.address() as AddressInfo).port}/graphql`;
  });
  after(async () => {
    router.close();
    await portfolio.stop();
    await intel.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a query crossing both subgraphs: positions from one, forecasts and decisions from this gateway, one inference for all tickers', async () => {
    await gql(intel.url, CreditAssessmentsDocument, { accounts: [{ ...sampleAccount(3), accountId: 'fed-1' }] });
    const news = await gql(intel.url, NewsSentimentDocument, { articles: [
      { id: 'n1', headline: 'Demo Corp soars after record quarterly profit', tickers: ['DEMO'] },
      { id: 'n2', headline: 'Demo Corp shares slump as guidance is cut', tickers: ['DEMO', 'DEMA'] },
    ] });
    assert.equal(news.status, 200);
    const stats = async () => (await gql<{ model: { stats: { batches: number; items: number } } }, unknown>(intel.url, '{ model(name: "forecast-qnn") { stats { batches items } } }')).body.data!.model.stats;
    const before = await stats();
    const res = await gql<{ positions: Array<{ id: string; ticker: { symbol: string; forecast: { lastClose: number; method: string }; newsSentiment: { articleCount: number } }; account: { latestDecision: { decision: string } | null } }> }, unknown>(routerUrl,
      '{ positions { id quantity ticker { symbol forecast(horizon: 3) { lastClose method } newsSentiment { articleCount } } account { accountId latestDecision { decision } } } }');
    assert.deepEqual(res.body.errors ?? [], []);
    const positions = res.body.data!.positions;
    assert.deepEqual(positions.map((p) => [p.id, p.ticker.symbol, p.ticker.forecast.method]), [['p1', 'DEMO', 'quantile-network'], ['p2', 'DEMA', 'quantile-network'], ['p3', 'DEMB', 'quantile-network']]);
    assert.equal(positions[0]!.ticker.forecast.lastClose, 108.22);
    assert.deepEqual(positions.map((p) => p.ticker.newsSentiment.articleCount), [2, 1, 0], 'the news analysed for each ticker');
    assert.ok(positions[0]!.account.latestDecision?.decision);
    assert.equal(positions[1]!.account.latestDecision, null);
    const after = await stats();
    assert.deepEqual([after.batches - before.batches, after.items - before.items], [1, 3], 'three entities, one batched inference');
  });
});

describe('through the federation router with API keys and a trace (deploy/gateway.config.ts)', () => {
  const KEY = 'router-desk-key-0123456789ab';
  let dir: string;
  let intel: Gateway;
  let router: http.Server;
  let routerUrl: string;
  let collector: Awaited<ReturnType<typeof startOtlpCollector>>;
  before(async () => {
    collector = await startOtlpCollector();
    dir = mkdtempSync(path.join(tmpdir(), 'federation-keys-'));
    const db = path.join(dir, 'prices.sqlite');
    await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'import-prices.js'), 'DEMO', path.join(REPO_ROOT, 'examples', 'data', 'DEMO.csv')], { env: { ...process.env, PRICE_DB_PATH: db } });
    intel = await startTestGateway({
      MODELS: 'forecast-qnn', PRICE_DB_PATH: db, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'intel',
      API_KEYS: JSON.stringify([{ name: 'desk', sha256: hashApiKey(KEY), scopes: ['forecast:read'] }]),
    });
    const composed = composeServices([{ name: 'intel', typeDefs: parse(readFileSync(path.join(REPO_ROOT, 'schema', 'subgraph.graphql'), 'utf8')), url: intel.url }]);
    assert.deepEqual(composed.errors ?? [], []);
    router = http.createServer(createGatewayRuntime({ supergraph: composed.supergraphSdl!, logging: false, ...gatewayConfig })).listen(0, '127.0.0.1');
    await new Promise((resolve) => router.once('listening', resolve));
    routerUrl = `http://127.0.0.1:${(router.address() as AddressInfo).port}/graphql`;
  });
  after(async () => {
    router.close();
    await intel.stop();
    collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = '{ ticker(symbol: "DEMO") { symbol prices(limit: 2) { close } } }';

  it('a scoped field answers through the router as it does directly, with the caller\'s key; without one it is UNAUTHENTICATED', async () => {
    const direct = await gql<{ ticker: { prices: unknown[] } }, unknown>(intel.url, query, undefined, { authorization: `Bearer ${KEY}` });
    const routed = await gql<{ ticker: { prices: unknown[] } }, unknown>(routerUrl, query, undefined, { authorization: `Bearer ${KEY}` });
    assert.equal(routed.body.errors, undefined, JSON.stringify(routed.body.errors));
    assert.deepEqual(routed.body.data, direct.body.data);
    assert.equal(routed.body.data!.ticker.prices.length, 2);
    const viaApiKeyHeader = await gql(routerUrl, query, undefined, { 'x-api-key': KEY });
    assert.equal(viaApiKeyHeader.body.errors, undefined);
    const anonymous = await gql(routerUrl, query);
    assert.ok(JSON.stringify(anonymous.body.errors).includes('UNAUTHENTICATED'), JSON.stringify(anonymous.body));
  });

  it('the caller\'s trace continues at the subgraph: its spans carry the trace id the caller sent to the router', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await gql(routerUrl, query, undefined, { authorization: `Bearer ${KEY}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    // The subgraph exports in batches (every 5 s): wait for a span of this trace.
    let span: OtlpSpan | undefined;
    for (let i = 0; i < 100 && !span; i++) {
      span = collector.spans.find((s) => s.traceId === traceId);
      if (!span) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(span, `spans: ${[...new Set(collector.spans.map((s) => `${s.name} ${s.traceId}`))].slice(0, 10).join(', ')}`);
  });
});
