import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      await promisify(execFile)(
        process.execPath,
        [
          path.join(REPO_ROOT, 'dist', 'scripts', 'import-prices.js'),
          symbol,
          path.join(REPO_ROOT, 'examples', 'data', 'DEMO.csv'),
        ],
        { env: { ...process.env, PRICE_DB_PATH: db } },
      );
    }
    intel = await startTestGateway({
      MODELS: 'forecast-qnn,credit-gbt,sentiment-bert',
      PRICE_DB_PATH: db,
      ALLOW_OPEN_ADMIN: 'true',
    });
    portfolio = new ApolloServer({
      schema: buildSubgraphSchema({ typeDefs: PORTFOLIO, resolvers: { Query: { positions: () => POSITIONS } } }),
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const { url: portfolioUrl } = await startStandaloneServer(portfolio, { listen: { port: 0, host: '127.0.0.1' } });
    const composed = composeServices([
      {
        name: 'intel',
        typeDefs: parse(readFileSync(path.join(REPO_ROOT, 'schema', 'subgraph.graphql'), 'utf8')),
        url: intel.url,
      },
      { name: 'portfolio', typeDefs: PORTFOLIO, url: portfolioUrl },
    ]);
    assert.deepEqual(composed.errors ?? [], []);
    router = http
      .createServer(createGatewayRuntime({ supergraph: composed.supergraphSdl!, logging: false }))
      .listen(0, '127.0.0.1');
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
    const news = await gql(intel.url, NewsSentimentDocument, {
      articles: [
        { id: 'n1', headline: 'Demo Corp soars after record quarterly profit', tickers: ['DEMO'] },
        { id: 'n2', headline: 'Demo Corp shares slump as guidance is cut', tickers: ['DEMO', 'DEMA'] },
      ],
    });
    assert.equal(news.status, 200);
    const stats = async () =>
      (
        await gql<{ model: { stats: { batches: number; items: number } } }, unknown>(
          intel.url,
          '{ model(name: "forecast-qnn") { stats { batches items } } }',
        )
      ).body.data!.model.stats;
    const before = await stats();
    const res = await gql<
      {
        positions: Array<{
          id: string;
          ticker: {
            symbol: string;
            forecast: { lastClose: number; method: string };
            newsSentiment: { articleCount: number };
          };
          account: { latestDecision: { decision: string } | null };
        }>;
      },
      unknown
    >(
      routerUrl,
      '{ positions { id quantity ticker { symbol forecast(horizon: 3) { lastClose method } newsSentiment { articleCount } } account { accountId latestDecision { decision } } } }',
    );
    assert.deepEqual(res.body.errors ?? [], []);
    const positions = res.body.data!.positions;
    assert.deepEqual(
      positions.map((p) => [p.id, p.ticker.symbol, p.ticker.forecast.method]),
      [
        ['p1', 'DEMO', 'quantile-network'],
        ['p2', 'DEMA', 'quantile-network'],
        ['p3', 'DEMB', 'quantile-network'],
      ],
    );
    assert.equal(positions[0]!.ticker.forecast.lastClose, 108.22);
    assert.deepEqual(
      positions.map((p) => p.ticker.newsSentiment.articleCount),
      [2, 1, 0],
      'the news analysed for each ticker',
    );
    assert.ok(positions[0]!.account.latestDecision?.decision);
    assert.equal(positions[1]!.account.latestDecision, null);
    const after = await stats();
    assert.deepEqual(
      [after.batches - before.batches, after.items - before.items],
      [1, 3],
      'three entities, one batched inference',
    );
  });
});

/** `npm run router` itself (scripts/router.ts) in its own process, on a free port, once it says where it listens. */
async function startRouter(
  supergraph: string,
  env: Record<string, string>,
): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'router.js'), supergraph, '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const found = /on (http:\/\/localhost:\d+\/graphql)/.exec(out);
      if (found) resolve(found[1]!.replace('localhost', '127.0.0.1'));
    });
    child.once('exit', (code) => reject(new Error(`router exited with ${code}: ${out}`)));
  });
  return { url, process: child };
}

describe('through the federation router (npm run router) with API keys and a trace (deploy/gateway.config.ts)', () => {
  const KEY = 'router-desk-key-0123456789ab';
  let dir: string;
  let intel: Gateway;
  let router: ChildProcess;
  let routerUrl: string;
  let collector: Awaited<ReturnType<typeof startOtlpCollector>>;
  before(async () => {
    collector = await startOtlpCollector();
    dir = mkdtempSync(path.join(tmpdir(), 'federation-keys-'));
    const db = path.join(dir, 'prices.sqlite');
    await promisify(execFile)(
      process.execPath,
      [
        path.join(REPO_ROOT, 'dist', 'scripts', 'import-prices.js'),
        'DEMO',
        path.join(REPO_ROOT, 'examples', 'data', 'DEMO.csv'),
      ],
      { env: { ...process.env, PRICE_DB_PATH: db } },
    );
    intel = await startTestGateway({
      MODELS: 'forecast-qnn',
      PRICE_DB_PATH: db,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'intel',
      API_KEYS: JSON.stringify([{ name: 'desk', sha256: hashApiKey(KEY), scopes: ['forecast:read'] }]),
    });
    const composed = composeServices([
      {
        name: 'intel',
        typeDefs: parse(readFileSync(path.join(REPO_ROOT, 'schema', 'subgraph.graphql'), 'utf8')),
        url: intel.url,
      },
    ]);
    assert.deepEqual(composed.errors ?? [], []);
    writeFileSync(path.join(dir, 'supergraph.graphql'), composed.supergraphSdl!);
    ({ url: routerUrl, process: router } = await startRouter(path.join(dir, 'supergraph.graphql'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'router',
    }));
  });
  after(async () => {
    router.kill('SIGTERM');
    await intel.stop();
    collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = '{ ticker(symbol: "DEMO") { symbol prices(limit: 2) { close } } }';

  it("a scoped field answers through the router as it does directly, with the caller's key; without one it is UNAUTHENTICATED", async () => {
    const direct = await gql<{ ticker: { prices: unknown[] } }, unknown>(intel.url, query, undefined, {
      authorization: `Bearer ${KEY}`,
    });
    const routed = await gql<{ ticker: { prices: unknown[] } }, unknown>(routerUrl, query, undefined, {
      authorization: `Bearer ${KEY}`,
    });
    assert.equal(routed.body.errors, undefined, JSON.stringify(routed.body.errors));
    assert.deepEqual(routed.body.data, direct.body.data);
    assert.equal(routed.body.data!.ticker.prices.length, 2);
    const viaApiKeyHeader = await gql(routerUrl, query, undefined, { 'x-api-key': KEY });
    assert.equal(viaApiKeyHeader.body.errors, undefined);
    const anonymous = await gql(routerUrl, query);
    assert.ok(JSON.stringify(anonymous.body.errors).includes('UNAUTHENTICATED'), JSON.stringify(anonymous.body));
  });

  it("one trace from the caller through the router's own spans to the replica's request and its batch", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await gql(routerUrl, '{ ticker(symbol: "DEMO") { forecast(horizon: 3) { method } } }', undefined, {
      authorization: `Bearer ${KEY}`,
      traceparent: `00-${traceId}-${callerSpan}-01`,
    });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    // Both processes export in batches (every 5 s): wait until the replica's request span and its batch span are in.
    const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    const replicaRequest = () =>
      inTrace().find(
        (s) => s.service === 'intel' && !inTrace().some((p) => p.service === 'intel' && p.spanId === s.parentSpanId),
      );
    const batchOf = (request: OtlpSpan) =>
      collector.spans.find(
        (s) => s.name === 'model.batch forecast-qnn' && s.links?.some((l) => l.spanId === request.spanId),
      );
    for (
      let i = 0;
      i < 150 && !(replicaRequest() && batchOf(replicaRequest()!) && inTrace().some((s) => s.service === 'router'));
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const describe = () =>
      inTrace()
        .map((s) => `${s.service}:${s.name}`)
        .join(', ');
    const routerSpans = inTrace().filter((s) => s.service === 'router');
    const root = routerSpans.find((s) => s.parentSpanId === callerSpan);
    assert.ok(root, `the router's first span continues the caller's span; trace: ${describe()}`);
    const request = replicaRequest();
    assert.ok(request, `trace: ${describe()}`);
    const parent = routerSpans.find((s) => s.spanId === request.parentSpanId);
    assert.ok(
      parent,
      `the replica's request span is a child of a router span; parent ${request.parentSpanId}, trace: ${describe()}`,
    );
    // The chain from the replica's span climbs through the router's spans to the caller's.
    let at: OtlpSpan | undefined = parent;
    for (let hops = 0; at && at.parentSpanId !== callerSpan && hops < routerSpans.length; hops++)
      at = routerSpans.find((s) => s.spanId === at!.parentSpanId);
    assert.equal(at?.parentSpanId, callerSpan, `router spans form one chain to the caller: ${describe()}`);
    assert.ok(batchOf(request), "the model batch span links to the replica's request in this trace");
  });
});
