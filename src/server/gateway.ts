import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { CreditService } from '../domains/credit/index.js';
import { CreditAuditLog } from '../domains/credit/credit-audit.js';
import { PostgresCreditAudit } from '../domains/credit/credit-audit-postgres.js';
import { AuditAvailability } from '../domains/credit/credit-audit-availability.js';
import { readCreditFeatureSpec } from '../domains/credit/credit.features.js';
import { ForecastService, openPriceStore } from '../domains/forecasting/index.js';
import { VolatilityPool } from '../domains/forecasting/volatility-pool.js';
import { openNewsSentimentLog } from '../domains/sentiment/news-sentiment-log.js';
import { SentimentService } from '../domains/sentiment/index.js';
import { createContext, type GatewayContext, type GatewayServices } from '../graphql/context.js';
import { createAuthChecker } from '../graphql/auth-checker.js';
import { createFormatError } from '../graphql/format-error.js';
import { compiledExecution } from '../graphql/compiled-executor.js';
import { ApiKeyRing } from '../platform/api-keys.js';
import { TokenBucketLimiter, type RateLimiter } from '../platform/rate-limiter.js';
import { RedisRateLimiter } from '../platform/redis-rate-limiter.js';
import { queryLimitsPlugin } from '../graphql/limits-plugin.js';
import { buildGatewaySchema } from '../graphql/schema.js';
import { buildSubgraph, NoServiceSdlRule } from '../graphql/federation.js';
import type { GatewayConfig } from '../platform/config.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import { ResourceStack } from '../platform/resources.js';
import type { Logger } from '../platform/logger.js';
import { readManifests, type ModelManifest } from '../runtime/model-manifest.js';
import { ModelRegistry } from '../runtime/model-registry.js';
import { artefactDirFor, createRuntimeFactory } from '../runtime/runtime-factory.js';
import { TASK_FACTS, TASKS } from '../runtime/tasks.js';
import { healthRoutes, metricsRoute } from './health-routes.js';
import { GatewayMetrics } from '../platform/metrics.js';
import { startTracing, traceRequests } from '../platform/tracing.js';
import { requestLoggingPlugin } from './request-logging-plugin.js';
import { creditAuditPlugin } from './credit-audit-plugin.js';
import { graphiqlRoutes } from './graphiql.js';
import { inferenceProtocolRoutes } from './inference-protocol.js';
import { VersionSync } from './version-sync.js';
import { admission, createAdmission, inFlightMiddleware, overloadStatusPlugin, refusal, sendRefusal, type Admitted } from './admission.js';
import { FairInFlightLimit } from './fair-admission.js';
import { createScheduling, schedulingMiddleware, type RequestScheduling } from './request-scheduling.js';
import { SchedulingMetrics } from '../platform/scheduling-metrics.js';
import { assignRequestIds, bodyRefusals, directGraphqlPath } from './graphql-http.js';

export interface Gateway {
  /** http://host:port/graphql */
  readonly url: string;
  readonly port: number;
  readonly registry: ModelRegistry;
  /** Readiness 503, in-flight requests finish, runtimes disposed. Safe to call twice. */
  stop(): Promise<void>;
}

/** The gateway cannot run as configured (port in use, no permission to bind): reported in one line, exit 2. */
export class ListenError extends Error {}

/**
 * Starts the HTTP server first (so /healthz answers and /readyz says 503 while models load), then
 * loads and warms up every model. Rejects, with the server closed again, if a required model fails.
 */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<Gateway> {
  const resources = new ResourceStack();
  try {
    return await start(config, logger, resources);
  } catch (error) {
    await resources.dispose(logger);
    throw error;
  }
}

/** startGateway's steps: everything acquired is registered in `resources` as it is acquired. */
async function start(config: GatewayConfig, logger: Logger, resources: ResourceStack): Promise<Gateway> {
  // Flushes the last spans when it closes, after everything else.
  const tracing = config.tracing ? resources.use('tracing', startTracing(config.tracing.endpoint, config.tracing.serviceName), (t) => t.shutdown()) : undefined;
  const metrics = new GatewayMetrics();
  const schedulingMetrics = new SchedulingMetrics(metrics.registry);
  let versionSync: VersionSync | undefined;
  const registry = resources.use('models', new ModelRegistry(readManifests(config.models.dir, config.models.only), {
    onBatch: (model, report) => {
      metrics.observeBatch(model, report);
      schedulingMetrics.observeWaits(model, report.waits);
    },
    onDrop: (model, report) => schedulingMetrics.observeDrop(model, report),
    driftWindow: config.models.driftWindow,
    driftMinObservations: config.models.driftMinObservations,
    onRefused: (model, code) => metrics.observeRefusal(model, code),
    checkVersion: checkDomainFiles,
    shadowTasks: TASKS.filter((t) => TASK_FACTS[t].shadow),
    onActivated: (name, version) => versionSync?.announce(name, version),
    batching: config.models.batching,
    queueTimeoutMs: config.models.queueTimeoutMs,
    artefactDir: artefactDirFor({ sentimentOverride: config.models.sentimentOverride, localModelPath: config.models.dir }),
    createRuntime: createRuntimeFactory({
      sentimentOverride: config.models.sentimentOverride, allowRemoteModels: config.models.allowRemote, localModelPath: config.models.dir,
      inferenceThreads: config.models.inferenceThreads, modelWorkers: config.models.modelWorkers, tabularRuntime: config.models.tabularRuntime, remoteApiKey: config.models.remoteApiKey,
    }),
    logger,
  }), (r) => r.dispose());
  const prices = resources.use('price store', await openPriceStore({ databaseUrl: config.priceDatabaseUrl, file: config.priceDbPath }), (p) => p.close());
  const newsLog = resources.use('news log', await openNewsSentimentLog({ databaseUrl: config.priceDatabaseUrl, file: config.priceDbPath }), (n) => n.close());
  const volatility = resources.use('volatility pool', new VolatilityPool(), (v) => v.close());
  const store = config.auditDatabaseUrl ? await PostgresCreditAudit.open(config.auditDatabaseUrl) : new CreditAuditLog(config.auditDbPath);
  const audit = resources.use('decision record', new AuditAvailability(store,
    (available, reason) => (available ? logger.info('the credit decision record is writable again') : logger.error({ reason }, 'the credit decision record cannot be written: credit is not ready'))),
  (a) => a.close());
  metrics.watchDrift(() => registry.list().flatMap((m) => {
    const report = registry.drift(m.manifest.name);
    // No gauge before the window is large enough to mean something: dashboards would alarm on noise.
    return report && report.status !== 'INSUFFICIENT_DATA' ? [{ model: m.manifest.name, quantities: [...report.features, report.output] }] : [];
  }));
  metrics.watchModels(() => registry.list().filter((m) => m.state.phase === 'ready').map((m) => m.identity));
  metrics.watchShadows(() => registry.list().flatMap((m) => {
    const report = registry.shadowReport(m.manifest.name);
    return report ? [{ model: m.manifest.name, ...report }] : [];
  }));
  const sentimentLimits = { maxTexts: config.limits.sentimentMaxTexts, maxTextLength: config.limits.sentimentMaxTextLength };
  const services: GatewayServices = {
    prices,
    newsLog,
    forecast: new ForecastService(() => registry.model(registry.nameForTask('forecast') ?? 'forecast'), prices, config.limits.forecastMaxSeries, volatility.estimate),
    sentiment: new SentimentService(() => registry.model(registry.nameForTask('sentiment') ?? 'sentiment'), sentimentLimits),
    targetedSentiment: new SentimentService(() => registry.model(registry.nameForTask('entity-sentiment') ?? 'entity-sentiment'), sentimentLimits),
    credit: new CreditService(() => registry.model(registry.nameForTask('credit') ?? 'credit'), {
      thresholds: config.credit,
      maxAccounts: config.limits.creditMaxAccounts,
    }, audit),
  };

  const keys = new ApiKeyRing(config.access.apiKeys);
  if (keys.open) logger.warn('no API keys configured (API_KEYS): the gateway is open to every caller');
  const { ratePerSecond, rateBurst, rateReplicas, redisUrl } = config.access;
  const redisLimiter = ratePerSecond > 0 && redisUrl ? new RedisRateLimiter(redisUrl, ratePerSecond, rateBurst, rateReplicas, logger) : undefined;
  const limiter: RateLimiter | undefined = ratePerSecond <= 0 ? undefined : redisLimiter ?? new TokenBucketLimiter(ratePerSecond, rateBurst);
  if (limiter?.close) resources.use('rate limiter', limiter, (l) => l.close?.());
  // Shared budgets from the first request when Redis is there; a replica started without it limits on its share.
  if (redisLimiter && !(await redisLimiter.connected())) logger.warn('rate limits: Redis not reachable at start, this replica limits on its own share of the budget');
  if (keys.open && config.access.allowOpenAdmin) logger.warn('ALLOW_OPEN_ADMIN=true: anonymous callers may switch model versions and read the audit trail');
  // Served as a Federation 2 subgraph: a federation router can compose it; direct callers see no difference.
  const schema = buildSubgraph(await buildGatewaySchema(createAuthChecker(keys, config.access.allowOpenAdmin)));
  const app = express();
  app.disable('x-powered-by');
  // Behind a balancer, the client's address is in X-Forwarded-For (anonymous callers are rate-limited by it).
  if (config.http.trustProxyHops > 0) app.set('trust proxy', config.http.trustProxyHops);
  // Express serves everything until the direct GraphQL path is ready (below).
  let handle: http.RequestListener = app;
  const httpServer = http.createServer((req, res) => handle(req, res));
  const lifecycle = { draining: false, refusing: false, lastRefusedAt: 0 };

  const apollo = new ApolloServer<GatewayContext>({
    ...(config.http.executor === 'compiled'
      ? { gateway: compiledExecution(schema, (executor) => metrics.observeExecution(executor)) }
      : { schema }),
    csrfPrevention: true,
    stopOnTerminationSignals: false, // main.ts owns the signals: drain, dispose models, then exit
    introspection: config.http.introspection,
    validationRules: config.http.introspection ? [] : [NoServiceSdlRule],
    // Parsing stops past this many tokens: a huge document is refused before it costs validation time.
    parseOptions: { maxTokens: config.limits.maxQueryTokens },
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError(logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.http.shutdownTimeoutMs }),
      // GraphiQL is served by graphiqlRoutes below (bundled, works offline); Apollo's Sandbox loads from its CDN.
      config.http.landingPage === 'sandbox'
        ? ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false }, includeCookies: false })
        : ApolloServerPluginLandingPageDisabled(),
      queryLimitsPlugin(schema, { maxDepth: config.limits.maxQueryDepth, maxComplexity: config.limits.maxQueryComplexity }, limiter),
      // Apollo turns on GraphOS's inline traces for subgraphs; traces here go through OpenTelemetry.
      ApolloServerPluginInlineTraceDisabled(),
      // No HTTP caching of answers (they are per caller and per model version), and without a plugin that
      // hooks willResolveField Apollo does not wrap every field's resolver: 1,000 credit results are ~14k fields.
      ApolloServerPluginCacheControlDisabled(),
      creditAuditPlugin(audit, logger),
      overloadStatusPlugin(),
      requestLoggingPlugin(logger, metrics),
    ],
  });
  await apollo.start();

  app.use(healthRoutes(registry, lifecycle, [...(redisUrl ? [{
    // With REDIS_URL, a replica is ready once it serves the versions the fleet recorded.
    name: 'model-versions',
    state: () => (versionSync?.ready ? { ready: true } : { ready: false, reason: 'taking the model versions recorded in Redis' }),
  }] : []), {
    name: 'credit-decision-record',
    state: () => {
      const s = audit.status;
      return s.available ? { ready: true } : { ready: false, reason: `cannot write since ${s.since.toISOString()}: ${s.reason}` };
    },
  }]));
  app.use(metricsRoute(metrics, config.http.metricsToken));
  // One count of requests in progress for both APIs.
  const inFlight = new FairInFlightLimit(config.http.maxConcurrentRequests, metrics);
  const admitConcurrent = inFlightMiddleware(inFlight, keys);
  const admit = createAdmission(keys, limiter, metrics);
  if (tracing) app.use(['/graphql', '/v2'], traceRequests);
  app.use('/v2/models', admitConcurrent);
  app.use(inferenceProtocolRoutes({
    registry, keys, limiter, metrics, lifecycle, bodyLimit: config.http.bodyLimit, maxTextLength: config.limits.sentimentMaxTextLength,
    maxItems: { sentiment: config.limits.sentimentMaxTexts, 'entity-sentiment': config.limits.sentimentMaxTexts, credit: config.limits.creditMaxAccounts, forecast: config.limits.forecastMaxSeries },
  }));
  if (config.http.corsOrigins.length) {
    // CSRF prevention stays on: a cross-origin POST must be JSON (a preflighted request), which CORS then allows.
    app.use('/graphql', cors({ origin: config.http.corsOrigins.includes('*') ? '*' : [...config.http.corsOrigins], maxAge: 600 }));
  }
  if (config.http.landingPage === 'graphiql') app.use(graphiqlRoutes());
  const schedule = createScheduling(config.http.maxRequestTimeoutMs, schedulingMetrics);
  const contextOf = async ({ requestId, clientRequestId, caller, rateKey, scheduling }: { requestId: string; clientRequestId?: string; scheduling?: RequestScheduling } & Admitted) =>
    createContext({ requestId, clientRequestId, caller, rateKey, scheduling }, registry, services);
  app.use('/graphql', assignRequestId, admitConcurrent, express.json({ limit: config.http.bodyLimit }), admission(admit), schedulingMiddleware(schedule), expressMiddleware(apollo, {
    context: async ({ res }) => contextOf({
      ...(res.locals as { requestId: string; clientRequestId?: string; scheduling?: RequestScheduling }), ...(res.locals.admitted as Admitted),
    }),
  }));
  app.use(jsonErrors(logger));
  const direct = directGraphqlPath({
    apollo, admit, schedule, inFlight, keys, bodyLimit: config.http.bodyLimit, trustProxyHops: config.http.trustProxyHops,
    cors: config.http.corsOrigins.length > 0, traced: tracing !== undefined, logger, context: contextOf,
  });
  handle = (req, res) => {
    // Draining: every answer asks the client to close its connection, so none is left idle to be cut at exit;
    // once the drain refuses work, a request on a kept-alive connection is answered 503, not dropped.
    if (lifecycle.draining) res.setHeader('connection', 'close');
    if (lifecycle.refusing && !isProbe(req.url)) {
      lifecycle.lastRefusedAt = performance.now();
      sendRefusal(res, refusal(httpStatusOf(GatewayErrorCode.SHUTTING_DOWN), 'this gateway instance is shutting down; retry, another instance will answer',
        { code: GatewayErrorCode.SHUTTING_DOWN, retryable: true }, { 'retry-after': '1', connection: 'close' }));
      return;
    }
    if (!direct(req, res)) app(req, res);
  };

  await listen(httpServer, config.port, config.host);
  // Closed first: the drain plugin closes the listener and what connections remain.
  resources.use('http server', apollo, (a) => a.stop());
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/graphql`;
  logger.info({ url, models: registry.list().map((m) => m.manifest.name) }, 'gateway listening; loading models');

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    lifecycle.draining = true;
    // Readiness now says 503; the listener keeps serving until load balancers have seen it.
    if (config.http.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.http.shutdownDelayMs));
    // New work is refused (503, Connection: close) while the requests in progress finish and callers that keep
    // sending on kept-alive connections learn to go elsewhere; the listener closes once it has been quiet a moment.
    lifecycle.refusing = true;
    lifecycle.lastRefusedAt = performance.now();
    const deadline = performance.now() + config.http.shutdownTimeoutMs;
    const quiet = () => inFlight.active === 0 && performance.now() - lifecycle.lastRefusedAt >= DRAIN_QUIET_MS;
    while (!quiet() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    await resources.dispose(logger);
    logger.info('gateway stopped');
  })());

  await registry.loadAll();
  if (config.models.watch) registry.watchManifests();
  if (redisUrl) {
    versionSync = resources.use('version sync', new VersionSync(redisUrl, registry, logger), (v) => v.close());
    // Without Redis at start the replica still serves, on its own versions; it says so.
    await versionSync.start();
  }
  logger.info({ url }, 'gateway ready');
  return { url, port, registry, stop };
}

/** How long no request must have been refused before the draining listener closes, and how often that is checked. */
const DRAIN_QUIET_MS = 250;
const DRAIN_POLL_MS = 25;

/** Health and readiness answer during the drain: probes must see it (readiness 503, draining). */
function isProbe(url: string | undefined): boolean {
  return url === '/healthz' || url === '/readyz' || url === '/metrics' || (url?.startsWith('/v2/health/') ?? false);
}

/** Binds the port; a port in use or not ours to bind becomes a ListenError with a plain message. */
function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'is already in use (set PORT to another port, or stop what holds it)'
        : error.code === 'EACCES' ? 'needs privileges this process lacks (use a port above 1023)'
          : error.code === 'EADDRNOTAVAIL' ? 'is on an address this machine does not have (check HOST)' : `failed: ${error.message}`;
      reject(new ListenError(`listening on ${host}:${port} ${reason}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** A credit model version must bring a features.json the gateway can honour, as wide as its input. */
function checkDomainFiles(manifest: ModelManifest): void {
  if (manifest.task !== 'credit') return;
  const spec = readCreditFeatureSpec(manifest.dir);
  const width = (manifest.inputs[0] as { shape?: number[] } | undefined)?.shape?.[1];
  if (spec.width !== width) throw new Error(`features.json lists ${spec.width} features, the manifest's input is ${width} wide`);
}

/** The request ids (assignRequestIds) on `res.locals`. */
const assignRequestId: RequestHandler = (req, res, next) => {
  Object.assign(res.locals, assignRequestIds(req.header('x-request-id'), res));
  next();
};

/** Body-parser failures (too large, not JSON) answered in GraphQL's error shape, never as HTML or a stack. */
function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error: { type?: string; status?: number; limit?: number; length?: number; message?: string }, _req, res, _next) => {
    if (error.type === 'entity.too.large') {
      sendRefusal(res, bodyRefusals.tooLarge(error.limit!, error.length));
    } else if (error.type === 'entity.parse.failed' || error.status === 400) {
      sendRefusal(res, bodyRefusals.notJson());
    } else if (error.type === 'charset.unsupported' || error.type === 'encoding.unsupported') {
      // A charset other than UTF-8, or a content-encoding other than gzip, deflate or br: the caller's to fix.
      sendRefusal(res, refusal(httpStatusOf(GatewayErrorCode.BAD_REQUEST), `${error.message}: send UTF-8 JSON, optionally gzip, deflate or br encoded`, { code: GatewayErrorCode.BAD_REQUEST }));
    } else {
      logger.error({ err: error }, 'unhandled HTTP error');
      sendRefusal(res, bodyRefusals.internal());
    }
  };
}
