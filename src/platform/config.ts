import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SCOPES } from './api-keys.js';
import { cpuVariables, divideCpuBudget } from './cpu-budget.js';
import { jwtSettings, jwtVariables } from './jwt-auth.js';
import { PRIORITIES } from './priority.js';
import { bool, deepFreeze, int, json, type ReportProblem } from './settings.js';

/** The repository root (two levels above src/platform or dist/src/platform). */
export const REPO_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? '..' : '',
);

/**
 * Below this many observations a PSI is sampling noise: with 10 bins, n draws from the training
 * distribution itself give PSI ~ chi2(9)/n (mean 9/n), so at 300 one quantity reads WATCH (>= 0.1,
 * chi2 >= 30) with probability 4e-4, and the 38 quantities of the credit model all read STABLE in
 * more than 95 % of windows (test/runtime/drift-monitor.test.ts draws them from the baselines).
 */
export const DEFAULT_DRIFT_MIN_OBSERVATIONS = 300;

const batchingSchema = z
  .object({
    maxBatchSize: int(1, 4096).optional(),
    maxWaitMs: z.coerce.number().min(0).max(1000).optional(),
    maxQueue: int(1, 1_000_000).optional(),
    maxQueueMs: z.coerce.number().min(1).max(600_000).optional(),
  })
  .strict();
export type BatchingOverride = z.infer<typeof batchingSchema>;

const apiKeysSchema = z
  .array(
    z
      .object({
        name: z.string().regex(/^[\w.-]{1,64}$/, '1..64 letters, digits, _ . -'),
        sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the hex SHA-256 of the key'),
        scopes: z.array(z.enum(SCOPES)).min(1),
        priority: z.enum(PRIORITIES).optional(),
      })
      .strict(),
  )
  .refine((keys) => new Set(keys.map((k) => k.name)).size === keys.length, 'key names must be unique');

/** A SQLite file, created on first start (resolved against the working directory), or `:memory:` for a throw-away database. */
const sqliteFile = (file: string) =>
  z
    .string()
    .min(1)
    .default(file)
    .transform((v) => (v === ':memory:' ? v : path.resolve(v)));

/** Comma-separated origins such as https://app.example.com, or * for any origin. */
const corsOrigins = z.string().transform((value, ctx) => {
  const origins = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = origins.filter((o) => o !== '*' && !/^https?:\/\/[\w.-]+(:\d{1,5})?$/.test(o));
  if (bad.length)
    ctx.issues.push({
      code: 'custom',
      message: `CORS_ORIGINS: each origin must be scheme://host[:port] with no path (or *), got ${bad.join(', ')}`,
      input: value,
    });
  return origins;
});

/** Each variable of the environment, validated on its own (configSchema then checks them together and shapes them). */
const envSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MODELS_DIR: z
    .string()
    .min(1)
    .default(path.join(REPO_ROOT, 'models'))
    .transform((dir) => path.resolve(dir)),
  MODELS: z
    .string()
    .transform((names) =>
      names
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    )
    .optional(),
  MODEL_BATCHING: json(
    'MODEL_BATCHING',
    '{"sentiment-bert":{"maxBatchSize":64}}',
    z.record(z.string(), batchingSchema),
  ).default({}),
  ALLOW_REMOTE_MODELS: bool.default(false),
  // CPU_BUDGET, INFERENCE_THREADS, MODEL_WORKERS, TABULAR_THREADS, VOLATILITY_THREADS: divided in cpu-budget.ts.
  ...cpuVariables,
  // Where the ONNX tabular models (credit, forecast) run: onnxruntime-node runs a session synchronously
  // on its caller's thread, so in a worker a 1,000-row batch no longer holds up every other request.
  TABULAR_RUNTIME: z.enum(['worker', 'event-loop']).default('worker'),
  SENTIMENT_MODEL: z.string().min(1).optional(),
  LANDING_PAGE: z.enum(['graphiql', 'sandbox', 'true', 'false', '1', '0']).optional(),
  INTROSPECTION: bool.default(true),
  GRAPHQL_EXECUTOR: z.enum(['compiled', 'graphql-js']).default('compiled'),
  CORS_ORIGINS: corsOrigins.default([]),
  TRUST_PROXY_HOPS: int(0, 10).default(0),
  ALLOW_OPEN_ADMIN: bool.default(false),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  API_KEYS: json(
    'API_KEYS',
    '[{"name":"frontend","sha256":"<hex>","scopes":["sentiment:read"]}]',
    apiKeysSchema,
  ).default([]),
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(5000),
  RATE_LIMIT_BURST: int(1, 100_000_000).default(20_000),
  /** Replicas sharing a Redis budget: while Redis is down each limits on its own with 1/N of the budget. */
  RATE_LIMIT_REPLICAS: int(1, 1000).default(1),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'a size such as 512kb or 2mb')
    .default('8mb'),
  MAX_QUERY_DEPTH: int(2, 100).default(10),
  MAX_QUERY_COMPLEXITY: int(10, 10_000_000).default(20_000),
  DEMAND_CONTROL: z.enum(['enforce', 'measure']).default('enforce'),
  MAX_QUERY_TOKENS: int(100, 10_000_000).default(5000),
  SENTIMENT_MAX_TEXTS: int(1, 10_000).default(256),
  SENTIMENT_MAX_TEXT_LENGTH: int(1, 100_000).default(2000),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(15_000),
  QUEUE_TIMEOUT_MS: int(1, 600_000).default(5000),
  /** The largest x-request-timeout a request may ask for. */
  REQUEST_TIMEOUT_MAX_MS: int(1, 600_000).default(60_000),
  MAX_CONCURRENT_REQUESTS: int(1, 1_000_000).default(1024),
  SHUTDOWN_DELAY_MS: int(0, 600_000).default(0),
  CREDIT_APPROVE_MAX_PD: z.coerce.number().gt(0).lt(1).default(0.2),
  CREDIT_DECLINE_MIN_PD: z.coerce.number().gt(0).lt(1).default(0.45),
  CREDIT_MAX_ACCOUNTS: int(1, 100_000).default(10_000),
  PRICE_DB_PATH: sqliteFile(path.join(REPO_ROOT, 'data', 'prices.sqlite')),
  FORECAST_MAX_SERIES: int(1, 1000).default(100),
  DRIFT_WINDOW: int(10, 1_000_000).default(5000),
  DRIFT_MIN_OBSERVATIONS: int(1, 1_000_000).default(DEFAULT_DRIFT_MIN_OBSERVATIONS),
  MODEL_WATCH: bool.default(true),
  AUDIT_DB_PATH: sqliteFile(path.join(REPO_ROOT, 'data', 'audit.sqlite')),
  AUDIT_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  PRICE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  REMOTE_API_KEY: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .regex(/^https?:\/\//, 'an http(s):// URL')
    .optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('fin-intel-gateway'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .optional(),
  ANSWER_CACHE_MAX_BYTES: z
    .string()
    .regex(/^\d+(kb|mb|gb)?$/i, 'bytes, or a size such as 64mb (0: off)')
    .transform(
      (v) =>
        Number.parseInt(v, 10) *
        (({ kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as Record<string, number>)[v.slice(-2).toLowerCase()] ?? 1),
    )
    .default(64 * 1024 ** 2),
  ANSWER_CACHE_TTL_S: int(0, 365 * 86_400).default(86_400),
  ANSWER_CACHE_HTTP_MAX_AGE_S: int(0, 86_400).default(0),
  // JWT_ISSUER, JWT_AUDIENCE, JWT_JWKS, JWT_ALGORITHMS, JWT_CLOCK_TOLERANCE_S, JWT_SCOPES_CLAIM, JWT_SCOPE_MAP: see jwt-auth.ts.
  ...jwtVariables,
  TRUSTED_DOCUMENTS: z.enum(['off', 'on']).default('off'),
  TRUSTED_DOCUMENTS_FILE: z
    .string()
    .min(1)
    .transform((file, ctx) => {
      if (!existsSync(file))
        ctx.issues.push({ code: 'custom', message: `TRUSTED_DOCUMENTS_FILE ${file} does not exist`, input: file });
      return path.resolve(file);
    })
    .optional(),
  TRUSTED_DOCUMENTS_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  TRUSTED_DOCUMENTS_REFRESH_S: int(0, 86_400).default(10),
});

/**
 * The gateway's configuration: each variable validated (envSchema), then the variables checked together and
 * shaped for their consumers, frozen. Its type is GatewayConfig; a setting is declared once in envSchema and
 * placed once below.
 */
export const configSchema = envSchema.transform((e, ctx) => {
  const problem: ReportProblem = (message) => {
    ctx.issues.push({ code: 'custom', message, input: undefined });
  };
  const jwt = jwtSettings(e, problem);
  if (e.TRUSTED_DOCUMENTS === 'on' && !e.TRUSTED_DOCUMENTS_FILE && !e.TRUSTED_DOCUMENTS_DATABASE_URL)
    problem(
      'TRUSTED_DOCUMENTS=on needs TRUSTED_DOCUMENTS_FILE (npm run trusted-documents writes one) or TRUSTED_DOCUMENTS_DATABASE_URL',
    );
  if (e.TRUSTED_DOCUMENTS_FILE && e.TRUSTED_DOCUMENTS_DATABASE_URL)
    problem(
      'TRUSTED_DOCUMENTS_FILE and TRUSTED_DOCUMENTS_DATABASE_URL are both set: choose one source of trusted documents',
    );
  if (e.RATE_LIMIT_PER_SECOND > 0 && e.RATE_LIMIT_BURST < e.MAX_QUERY_COMPLEXITY) {
    problem(
      `RATE_LIMIT_BURST (${e.RATE_LIMIT_BURST}) must be at least MAX_QUERY_COMPLEXITY (${e.MAX_QUERY_COMPLEXITY}), or the largest allowed query could never run`,
    );
  }
  if (e.CREDIT_APPROVE_MAX_PD >= e.CREDIT_DECLINE_MIN_PD) {
    problem(
      `CREDIT_APPROVE_MAX_PD (${e.CREDIT_APPROVE_MAX_PD}) must be below CREDIT_DECLINE_MIN_PD (${e.CREDIT_DECLINE_MIN_PD})`,
    );
  }
  if (e.DRIFT_MIN_OBSERVATIONS > e.DRIFT_WINDOW) {
    problem(
      `DRIFT_MIN_OBSERVATIONS (${e.DRIFT_MIN_OBSERVATIONS}) must not exceed DRIFT_WINDOW (${e.DRIFT_WINDOW}), or drift could never be reported`,
    );
  }
  // A missing folder is start-up's to report (it names the folder); names are checked here, beside the other settings.
  if (e.MODELS && existsSync(e.MODELS_DIR)) {
    const found = readdirSync(e.MODELS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(e.MODELS_DIR, d.name, 'manifest.json')))
      .map((d) => d.name)
      .sort();
    const unknown = e.MODELS.filter((m) => !found.includes(m));
    if (unknown.length)
      problem(`MODELS names unknown model(s) ${unknown.join(', ')}; found ${found.join(', ') || 'none'}`);
  }
  if (
    e.SENTIMENT_MODEL &&
    !e.ALLOW_REMOTE_MODELS &&
    !path.isAbsolute(e.SENTIMENT_MODEL) &&
    !e.SENTIMENT_MODEL.startsWith('.')
  ) {
    problem(
      `SENTIMENT_MODEL ${e.SENTIMENT_MODEL} looks like a hub id; set ALLOW_REMOTE_MODELS=true or give a local folder path`,
    );
  }
  return deepFreeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    models: {
      dir: e.MODELS_DIR,
      /** Only these model names are loaded (all manifests when undefined). */
      only: e.MODELS,
      batching: e.MODEL_BATCHING,
      allowRemote: e.ALLOW_REMOTE_MODELS,
      /** Replaces the sentiment model: a local folder or a hub id (needs ALLOW_REMOTE_MODELS). */
      sentimentOverride: e.SENTIMENT_MODEL,
      /** Where the ONNX tabular models run: one worker thread per model version, or the event loop. */
      tabularRuntime: e.TABULAR_RUNTIME,
      /** Bearer key for remote v2 model servers (manifests with runtime "remote"). */
      remoteApiKey: e.REMOTE_API_KEY,
      /** Observations per model kept for drift monitoring. */
      driftWindow: e.DRIFT_WINDOW,
      /** Longest an item waits in a model's queue before it is refused (OVERLOADED); a manifest's maxQueueMs wins. */
      queueTimeoutMs: e.QUEUE_TIMEOUT_MS,
      /** Fewer observations than this in the window: drift status INSUFFICIENT_DATA. */
      driftMinObservations: e.DRIFT_MIN_OBSERVATIONS,
      /** Activate a new version when a model's manifest.json changes. */
      watch: e.MODEL_WATCH,
    },
    /** CPU_BUDGET divided between the transformer models' workers, the tabular models and the volatility pool. */
    cpu: divideCpuBudget(e),
    http: {
      /** The page `GET /graphql` shows a browser: the bundled GraphiQL, Apollo's Sandbox (from its CDN), or none. */
      landingPage: landingPage(e.LANDING_PAGE, e.INTROSPECTION, problem),
      introspection: e.INTROSPECTION,
      /** How queries execute: compiled per document by graphql-jit once seen twice, or always by graphql-js. */
      executor: e.GRAPHQL_EXECUTOR,
      /** Origins allowed to call from a browser (CORS); empty: no CORS headers, same-origin only. */
      corsOrigins: e.CORS_ORIGINS,
      /** Reverse proxies in front whose X-Forwarded-For is believed (client addresses key anonymous rate limits). */
      trustProxyHops: e.TRUST_PROXY_HOPS,
      bodyLimit: e.BODY_LIMIT,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      /** How long readiness says 503 while the listener still serves, before it closes (load balancers catch up). */
      shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
      /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
      metricsToken: e.METRICS_TOKEN,
      /** GraphQL requests in progress beyond which new ones are refused at once with 503 (admission control). */
      maxConcurrentRequests: e.MAX_CONCURRENT_REQUESTS,
      /** The largest deadline (ms) a request's x-request-timeout may set. */
      maxRequestTimeoutMs: e.REQUEST_TIMEOUT_MAX_MS,
    },
    limits: {
      maxQueryDepth: e.MAX_QUERY_DEPTH,
      maxQueryComplexity: e.MAX_QUERY_COMPLEXITY,
      /** `measure`: operations over maxQueryComplexity run, logged and counted, instead of being refused. */
      demandControl: e.DEMAND_CONTROL,
      /** Lexical tokens a query text may have; parsing stops past them (GraphQL Armor's max-tokens). */
      maxQueryTokens: e.MAX_QUERY_TOKENS,
      sentimentMaxTexts: e.SENTIMENT_MAX_TEXTS,
      sentimentMaxTextLength: e.SENTIMENT_MAX_TEXT_LENGTH,
      creditMaxAccounts: e.CREDIT_MAX_ACCOUNTS,
      forecastMaxSeries: e.FORECAST_MAX_SERIES,
    },
    access: {
      /** Hashed API keys with their scopes; none: the gateway runs open. */
      apiKeys: e.API_KEYS,
      /** Query-complexity units per second per caller (0: no rate limit). */
      ratePerSecond: e.RATE_LIMIT_PER_SECOND,
      rateBurst: e.RATE_LIMIT_BURST,
      /** RATE_LIMIT_REPLICAS: the share of the budget each replica takes while Redis is down is 1/N. */
      rateReplicas: e.RATE_LIMIT_REPLICAS,
      /** Redis shared by the replicas for rate limits; undefined: each process keeps its own buckets. */
      redisUrl: e.REDIS_URL,
      /** With no API keys, let anonymous callers use admin mutations and read the audit trail. */
      allowOpenAdmin: e.ALLOW_OPEN_ADMIN,
      /** Bearer JWTs of one OIDC issuer, beside API keys; undefined: API keys only. */
      jwt,
      /** Registered operations (an Apollo persisted-query manifest) and whether only they may run. */
      trustedDocuments: {
        enforce: e.TRUSTED_DOCUMENTS === 'on',
        file: e.TRUSTED_DOCUMENTS_FILE,
        /** PostgreSQL URL of the `trusted_documents` table the replicas share, instead of a file. */
        databaseUrl: e.TRUSTED_DOCUMENTS_DATABASE_URL,
        /** How often the file or table is read again (0: only at start and on POST /trusted-documents/refresh). */
        refreshMs: e.TRUSTED_DOCUMENTS_REFRESH_S * 1000,
      },
    },
    /** SQLite file of the credit decision record (created on first start). */
    auditDbPath: e.AUDIT_DB_PATH,
    /** PostgreSQL URL of the decision record, replacing the SQLite file (several instances). */
    auditDatabaseUrl: e.AUDIT_DATABASE_URL,
    /** OTLP/HTTP collector for traces; undefined: tracing off. */
    tracing: tracing(e),
    /** SQLite file of the price store (created on first start). */
    priceDbPath: e.PRICE_DB_PATH,
    /** PostgreSQL URL of the price store, replacing the SQLite file (replicas sharing one store). */
    priceDatabaseUrl: e.PRICE_DATABASE_URL,
    /** Cached deterministic answers (sentiment, forecasts, stored prices); shared through access.redisUrl when set. */
    answerCache: {
      /** Bound of the local LRU in estimated bytes; 0: no caching. */
      maxBytes: e.ANSWER_CACHE_MAX_BYTES,
      /** How long an answer is kept, locally and in Redis (0: until evicted). */
      ttlMs: e.ANSWER_CACHE_TTL_S * 1000,
      /** max-age of Cache-Control on queries made only of cacheable fields (0: no such header). */
      httpMaxAgeS: e.ANSWER_CACHE_HTTP_MAX_AGE_S,
    },
    credit: {
      /** APPROVE below this probability of default. */
      approveBelow: e.CREDIT_APPROVE_MAX_PD,
      /** DECLINE from this probability of default; REVIEW in between. */
      declineFrom: e.CREDIT_DECLINE_MIN_PD,
    },
  });
});

/** The gateway's settings, as configSchema makes them: frozen, nested by consumer. */
export type GatewayConfig = z.output<typeof configSchema>;

export class ConfigError extends Error {}

/** One problem as a line: zod's own name the variable and the value given; this module's checks say both themselves. */
function describeIssue(issue: z.core.$ZodIssue, given: Record<string, string | undefined>): string {
  const [name = '', ...inside] = issue.path.map(String);
  if (issue.code === 'custom' && (name === '' || issue.message.startsWith(name))) return issue.message;
  const value = given[name];
  const got = issue.code === 'custom' || inside.length || value === undefined ? '' : ` (got "${value.slice(0, 80)}")`;
  return `${[name, ...(inside.length ? [inside.join('.')] : [])].join(': ')}: ${issue.message.replace(/, received NaN$/, '')}${got}`;
}

/** Parses `source` with `schema`, every problem in one ConfigError. */
function parseEnvironment<T extends z.ZodType>(schema: T, source: Record<string, string | undefined>): z.output<T> {
  const given = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(given);
  if (!parsed.success)
    throw new ConfigError(
      `invalid configuration: ${parsed.error.issues.map((i) => describeIssue(i, given)).join('; ')}`,
    );
  return parsed.data;
}

/**
 * Parses and validates the environment once, at start. Every problem is reported in one message: each variable
 * that is invalid on its own, or, when all are, each problem across variables.
 * @example loadConfig({ PORT: '8080' }).port === 8080
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  return parseEnvironment(configSchema, source);
}

/** OTLP/HTTP tracing when an endpoint is given. */
function tracing(e: { OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined; OTEL_SERVICE_NAME: string }) {
  return e.OTEL_EXPORTER_OTLP_ENDPOINT
    ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME }
    : undefined;
}

/** GraphiQL by default; the UI reads the schema by introspection, so it needs INTROSPECTION=true. */
function landingPage(
  value: string | undefined,
  introspection: boolean,
  problem: ReportProblem,
): 'graphiql' | 'sandbox' | 'off' {
  const page =
    value === undefined
      ? introspection
        ? 'graphiql'
        : 'off'
      : value === 'sandbox'
        ? 'sandbox'
        : value === 'graphiql' || value === 'true' || value === '1'
          ? 'graphiql'
          : 'off';
  if (page !== 'off' && !introspection) {
    problem(
      `LANDING_PAGE=${value} needs INTROSPECTION=true (the UI reads the schema by introspection); set LANDING_PAGE=false`,
    );
  }
  return page;
}

/**
 * The federation router's settings (`npm run router`): its spans go where the gateway's do, under its own name.
 * @example loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing?.serviceName === 'federation-router'
 */
export function loadRouterConfig(source: Record<string, string | undefined> = process.env): {
  readonly tracing: GatewayConfig['tracing'];
} {
  const routerSchema = envSchema
    .pick({ OTEL_EXPORTER_OTLP_ENDPOINT: true })
    .extend({ OTEL_SERVICE_NAME: z.string().min(1).default('federation-router') });
  return Object.freeze({ tracing: tracing(parseEnvironment(routerSchema, source)) });
}
