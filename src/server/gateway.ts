import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { DOMAINS } from '../domains/index.js';
import type { GatewayContext } from '../graphql/context.js';
import type { Capability, DomainModule } from '../graphql/domain-module.js';
import { AnswerCache } from '../platform/answer-cache.js';
import { cacheControlPlugin } from './cache-control-plugin.js';
import { createAuthChecker } from '../graphql/auth-checker.js';
import { createFormatError } from '../graphql/format-error.js';
import { compiledExecution } from '../graphql/compiled-executor.js';
import { ApiKeyRing } from '../platform/api-keys.js';
import { Authenticator, JwtVerifier } from '../platform/jwt-auth.js';
import { localApqCache, RedisApqCache } from '../platform/apq-cache.js';
import { withTrustedDocuments } from './trusted-documents.js';
import { TrustedDocumentSource, trustedDocumentsRoutes } from './trusted-document-source.js';
import { TokenBucketLimiter, type RateLimiter } from '../platform/rate-limiter.js';
import { RedisRateLimiter } from '../platform/redis-rate-limiter.js';
import { queryLimitsPlugin } from '../graphql/limits-plugin.js';
import { buildGatewaySchema } from '../graphql/schema.js';
import { buildSubgraph, NoServiceSdlRule } from '../graphql/federation.js';
import type { GatewayConfig } from '../platform/config.js';
import { logCpuBudget } from '../platform/cpu-budget.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import { ResourceStack } from '../platform/resources.js';
import { PostgresPools } from '../platform/databases.js';
import type { Logger } from '../platform/logger.js';
import { readManifests } from '../runtime/model-manifest.js';
import { ModelRegistry } from '../runtime/model-registry.js';
import { watchManifests } from '../runtime/manifest-watcher.js';
import { artefactDirFor, createRuntimeFactory } from '../runtime/runtime-factory.js';
import { TaskCatalog } from '../runtime/tasks.js';
import { healthRoutes, metricsRoute } from './health-routes.js';
import { GatewayMetrics } from '../platform/metrics.js';
import { startTracing, traceRequests } from '../platform/tracing.js';
import { requestLoggingPlugin } from './request-logging-plugin.js';
import { graphiqlRoutes } from './graphiql.js';
import { inferenceProtocolRoutes } from './inference-protocol.js';
import { VersionSync } from './version-sync.js';
import { overloadStatusPlugin, refusal, sendRefusal } from './admission.js';
import { FairInFlightLimit } from './fair-admission.js';
import { createScheduling } from './request-scheduling.js';
import { SchedulingMetrics } from '../platform/scheduling-metrics.js';
import { directGraphqlPath, graphqlEntry } from './graphql-http.js';
import { RequestPipeline, type Passed } from './request-pipeline.js';
import { jsonErrors, parsedBody, pipelineMiddleware } from './express-pipeline.js';

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
export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  domains: ReadonlyArray<DomainModule<unknown, unknown>> = DOMAINS,
): Promise<Gateway> {
  const resources = new ResourceStack();
  try {
    return await start(config, logger, resources, domains);
  } catch (error) {
    await resources.dispose(logger);
    throw error;
  }
}

/** startGateway's steps: everything acquired is registered in `resources` as it is acquired. */
async function start(
  config: GatewayConfig,
  logger: Logger,
  resources: ResourceStack,
  domains: ReadonlyArray<DomainModule<unknown, unknown>>,
): Promise<Gateway> {
  // Flushes the last spans when it closes, after everything else.
  const tracing = config.tracing
    ? resources.use('tracing', startTracing(config.tracing.endpoint, config.tracing.serviceName), (t) => t.shutdown())
    : undefined;
  const metrics = new GatewayMetrics();
  const schedulingMetrics = new SchedulingMetrics(metrics.registry);
  let versionSync: VersionSync | undefined;
  const tasks = new TaskCatalog(domains.flatMap((d) => Object.entries(d.tasks?.(config) ?? {})));
  logCpuBudget(config.cpu, logger);
  const registry = resources.use(
    'models',
    new ModelRegistry(readManifests(config.models.dir, config.models.only), {
      onBatch: (model, report) => {
        metrics.observeBatch(model, report);
        schedulingMetrics.observeWaits(model, report.waits);
      },
      onDrop: (model, report) => schedulingMetrics.observeDrop(model, report),
      driftWindow: config.models.driftWindow,
      driftMinObservations: config.models.driftMinObservations,
      onRefused: (model, code) => metrics.observeRefusal(model, code),
      tasks,
      onActivated: (name, version) => versionSync?.announce(name, version),
      batching: config.models.batching,
      queueTimeoutMs: config.models.queueTimeoutMs,
      artefactDir: artefactDirFor({ tasks, localModelPath: config.models.dir }),
      createRuntime: createRuntimeFactory({
        tasks,
        allowRemoteModels: config.models.allowRemote,
        localModelPath: config.models.dir,
        inferenceThreads: config.cpu.inferenceThreads,
        modelWorkers: config.cpu.modelWorkers,
        tabularThreads: config.cpu.tabularThreads,
        tabularRuntime: config.models.tabularRuntime,
        remoteApiKey: config.models.remoteApiKey,
      }),
      logger,
    }),
    (r) => r.dispose(),
  );
  const answers = resources.use(
    'answer cache',
    new AnswerCache({ ...config.answerCache, redisUrl: config.access.redisUrl, observer: metrics.answerCache, logger }),
    (c) => c.close(),
  );
  metrics.watchAnswerCache(answers);
  metrics.watchDrift(() =>
    registry.list().flatMap((m) => {
      const report = registry.drift(m.manifest.name);
      // No gauge before the window is large enough to mean something: dashboards would alarm on noise.
      return report && report.status !== 'INSUFFICIENT_DATA'
        ? [{ model: m.manifest.name, quantities: [...report.features, report.output] }]
        : [];
    }),
  );
  metrics.watchModels(() =>
    registry
      .list()
      .filter((m) => m.state.phase === 'ready')
      .map((m) => m.identity),
  );
  metrics.watchShadows(() =>
    registry.list().flatMap((m) => {
      const report = registry.shadows.report(m.manifest.name);
      return report ? [{ model: m.manifest.name, ...report }] : [];
    }),
  );
  // Each domain opens what it needs (stores, pools) on the resource stack, in the list's order.
  // Closed after the domains' stores that use them.
  const postgres = resources.use('postgres pools', new PostgresPools(), (p) => p.close());
  const started: Array<{ domain: DomainModule<unknown, unknown>; services: unknown }> = [];
  const plugins: ApolloServerPlugin<GatewayContext>[] = [];
  const capabilities: Capability[] = [];
  for (const domain of domains) {
    const {
      services,
      plugins: own = [],
      capabilities: needs = [],
    } = await domain.start({ config, registry, resources, logger, postgres, answers });
    started.push({ domain, services });
    plugins.push(...own);
    capabilities.push(...needs);
  }

  const keys = new Authenticator(
    new ApiKeyRing(config.access.apiKeys),
    config.access.jwt && new JwtVerifier(config.access.jwt),
  );
  if (keys.open)
    logger.warn('no API keys or JWT issuer configured (API_KEYS, JWT_*): the gateway is open to every caller');
  const { ratePerSecond, rateBurst, rateReplicas, redisUrl } = config.access;
  const redisLimiter =
    ratePerSecond > 0 && redisUrl
      ? new RedisRateLimiter(redisUrl, ratePerSecond, rateBurst, rateReplicas, logger)
      : undefined;
  const limiter: RateLimiter | undefined =
    ratePerSecond <= 0 ? undefined : (redisLimiter ?? new TokenBucketLimiter(ratePerSecond, rateBurst));
  if (limiter?.close) resources.use('rate limiter', limiter, (l) => l.close?.());
  // Shared budgets from the first request when Redis is there; a replica started without it limits on its share.
  if (redisLimiter && !(await redisLimiter.connected()))
    logger.warn('rate limits: Redis not reachable at start, this replica limits on its own share of the budget');
  if (keys.open && config.access.allowOpenAdmin)
    logger.warn('ALLOW_OPEN_ADMIN=true: anonymous callers may switch model versions and read the audit trail');
  // Served as a Federation 2 subgraph: a federation router can compose it; direct callers see no difference.
  const trusted = config.access.trustedDocuments;
  // From a file or a table the replicas share, read again every TRUSTED_DOCUMENTS_REFRESH_S.
  const trustedDocuments = await TrustedDocumentSource.open(trusted, postgres, logger);
  if (trustedDocuments) {
    resources.use('trusted documents', trustedDocuments, (t) => t.close());
    logger.info(
      {
        source: trustedDocuments.name,
        operations: trustedDocuments.current.operations.length,
        enforced: trusted.enforce,
      },
      'trusted documents loaded',
    );
  }
  // APQ: shared by the replicas through Redis when there is one; registered operations are found by hash on every replica.
  const apq = redisUrl
    ? resources.use('APQ cache', new RedisApqCache(redisUrl, logger), (c) => c.close())
    : localApqCache();
  const schema = buildSubgraph(
    await buildGatewaySchema(domains, createAuthChecker(keys, config.access.allowOpenAdmin)),
  );
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
    persistedQueries: { cache: trustedDocuments ? withTrustedDocuments(trustedDocuments, apq) : apq },
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
      queryLimitsPlugin(
        schema,
        {
          maxDepth: config.limits.maxQueryDepth,
          maxComplexity: config.limits.maxQueryComplexity,
          demandControl: config.limits.demandControl,
        },
        limiter,
        {
          wouldRefuse: (event) => {
            metrics.observeWouldRefuse();
            logger.warn(
              event,
              'demand control (measure): ran an operation that enforcement would refuse as QUERY_TOO_COMPLEX',
            );
          },
        },
      ),
      // Apollo turns on GraphOS's inline traces for subgraphs; traces here go through OpenTelemetry.
      ApolloServerPluginInlineTraceDisabled(),
      // Without a plugin that hooks willResolveField Apollo does not wrap every field's resolver (1,000 credit
      // results are ~14k fields): Cache-Control comes from the root fields that ran instead.
      ApolloServerPluginCacheControlDisabled(),
      cacheControlPlugin({ maxAgeS: config.answerCache.httpMaxAgeS, perCaller: !keys.open }),
      ...plugins,
      overloadStatusPlugin(),
      requestLoggingPlugin(logger, metrics),
    ],
  });
  await apollo.start();

  app.use(
    healthRoutes(registry, lifecycle, [
      ...(redisUrl
        ? [
            {
              // With REDIS_URL, a replica is ready once it serves the versions the fleet recorded.
              name: 'model-versions',
              state: () =>
                versionSync?.ready
                  ? { ready: true }
                  : { ready: false, reason: 'taking the model versions recorded in Redis' },
            },
          ]
        : []),
      ...capabilities,
    ]),
  );
  app.use(metricsRoute(metrics, config.http.metricsToken));
  if (trustedDocuments) app.use(trustedDocumentsRoutes(trustedDocuments, keys, config.access.allowOpenAdmin));
  // One pipeline, with one count of requests in progress, for every HTTP entry (request-pipeline.ts).
  const inFlight = new FairInFlightLimit(config.http.maxConcurrentRequests, metrics, schedulingMetrics);
  const pipeline = new RequestPipeline({
    keys,
    inFlight,
    limiter,
    metrics,
    schedule: createScheduling(config.http.maxRequestTimeoutMs, schedulingMetrics),
  });
  const checkDocument = trusted.enforce ? trustedDocuments?.check() : undefined;
  if (tracing) app.use(['/graphql', '/v2'], traceRequests);
  app.use(
    inferenceProtocolRoutes({
      registry,
      pipeline,
      metrics,
      lifecycle,
      tasks,
      bodyLimit: config.http.bodyLimit,
      maxTextLength: config.limits.sentimentMaxTextLength,
    }),
  );
  if (config.http.corsOrigins.length) {
    // CSRF prevention stays on: a cross-origin POST must be JSON (a preflighted request), which CORS then allows.
    app.use(
      '/graphql',
      cors({ origin: config.http.corsOrigins.includes('*') ? '*' : [...config.http.corsOrigins], maxAge: 600 }),
    );
  }
  if (config.http.landingPage === 'graphiql') app.use(graphiqlRoutes());
  const contextOf = async ({
    requestId,
    clientRequestId,
    caller,
    rateKey,
    scheduling,
  }: Passed<unknown>): Promise<GatewayContext> => {
    // The caller, its priority, deadline and abort signal ride along to the batchers, which serve callers in turn.
    const request = { requestId, clientRequestId, caller, rateKey, submission: { caller: rateKey, ...scheduling } };
    const context: Record<string, unknown> = { ...request, registry };
    // Each domain's per-request state (fresh DataLoaders) under its name, where its resolvers look for it.
    for (const { domain, services } of started)
      if (domain.request) context[domain.name] = domain.request(services, request);
    return context as unknown as GatewayContext;
  };
  app.use(
    '/graphql',
    pipelineMiddleware(
      pipeline,
      graphqlEntry(parsedBody(express.json({ limit: config.http.bodyLimit })), checkDocument),
    ),
    expressMiddleware(apollo, { context: async ({ res }) => contextOf(res.locals.passed as Passed<unknown>) }),
  );
  app.use(jsonErrors(logger));
  const direct = directGraphqlPath({
    apollo,
    pipeline,
    trusted: checkDocument,
    bodyLimit: config.http.bodyLimit,
    trustProxyHops: config.http.trustProxyHops,
    cors: config.http.corsOrigins.length > 0,
    traced: tracing !== undefined,
    logger,
    context: contextOf,
  });
  handle = (req, res) => {
    // Draining: every answer asks the client to close its connection, so none is left idle to be cut at exit;
    // once the drain refuses work, a request on a kept-alive connection is answered 503, not dropped.
    if (lifecycle.draining) res.setHeader('connection', 'close');
    if (lifecycle.refusing && !isProbe(req.url)) {
      lifecycle.lastRefusedAt = performance.now();
      sendRefusal(
        res,
        refusal(
          httpStatusOf(GatewayErrorCode.SHUTTING_DOWN),
          'this gateway instance is shutting down; retry, another instance will answer',
          { code: GatewayErrorCode.SHUTTING_DOWN, retryable: true },
          { 'retry-after': '1', connection: 'close' },
        ),
      );
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
  const stop = () =>
    (stopping ??= (async () => {
      lifecycle.draining = true;
      // Readiness now says 503; the listener keeps serving until load balancers have seen it.
      if (config.http.shutdownDelayMs > 0)
        await new Promise((resolve) => setTimeout(resolve, config.http.shutdownDelayMs));
      // New work is refused (503, Connection: close) while the requests in progress finish and callers that keep
      // sending on kept-alive connections learn to go elsewhere; the listener closes once it has been quiet a moment.
      lifecycle.refusing = true;
      lifecycle.lastRefusedAt = performance.now();
      const deadline = performance.now() + config.http.shutdownTimeoutMs;
      const quiet = () => inFlight.active === 0 && performance.now() - lifecycle.lastRefusedAt >= DRAIN_QUIET_MS;
      while (!quiet() && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      await resources.dispose(logger);
      logger.info('gateway stopped');
    })());

  await registry.loadAll();
  if (config.models.watch) resources.use('manifest watcher', watchManifests(registry, logger), (w) => w.close());
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
      const reason =
        error.code === 'EADDRINUSE'
          ? 'is already in use (set PORT to another port, or stop what holds it)'
          : error.code === 'EACCES'
            ? 'needs privileges this process lacks (use a port above 1023)'
            : error.code === 'EADDRNOTAVAIL'
              ? 'is on an address this machine does not have (check HOST)'
              : `failed: ${error.message}`;
      reject(new ListenError(`listening on ${host}:${port} ${reason}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
