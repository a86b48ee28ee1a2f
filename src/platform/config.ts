import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SCOPES, type ApiKeyConfig } from './api-keys.js';
import { parseJwtSettings, type JwtConfig } from './jwt-auth.js';
import { PRIORITIES } from './priority.js';

/** The repository root (two levels above src/platform or dist/src/platform). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..',
  fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? '..' : '');

/**
 * Below this many observations a PSI is sampling noise: with 10 bins, n draws from the training
 * distribution itself give PSI ~ chi2(9)/n (mean 9/n), so at 300 one quantity reads WATCH (>= 0.1,
 * chi2 >= 30) with probability 4e-4, and the 38 quantities of the credit model all read STABLE in
 * more than 95 % of windows (test/runtime/drift-monitor.test.ts draws them from the baselines).
 */
export const DEFAULT_DRIFT_MIN_OBSERVATIONS = 300;

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const batchingSchema = z.object({
  maxBatchSize: int(1, 4096).optional(),
  maxWaitMs: z.coerce.number().min(0).max(1000).optional(),
  maxQueue: int(1, 1_000_000).optional(),
  maxQueueMs: z.coerce.number().min(1).max(600_000).optional(),
}).strict();
export type BatchingOverride = z.infer<typeof batchingSchema>;

const envSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MODELS_DIR: z.string().min(1).default(path.join(REPO_ROOT, 'models')),
  MODELS: z.string().optional(),
  MODEL_BATCHING: z.string().default('{}'),
  ALLOW_REMOTE_MODELS: bool.default(false),
  // Inference runs in a worker thread; its onnxruntime threads do not spin, so they can use every core
  // and still leave the event loop its share.
  INFERENCE_THREADS: int(1, 256).default(os.availableParallelism()),
  // Worker threads per transformer model, each with its own copy of the model and INFERENCE_THREADS threads.
  MODEL_WORKERS: int(1, 64).default(1),
  // Where the ONNX tabular models (credit, forecast) run: onnxruntime-node runs a session synchronously
  // on its caller's thread, so in a worker a 1,000-row batch no longer holds up every other request.
  TABULAR_RUNTIME: z.enum(['worker', 'event-loop']).default('worker'),
  SENTIMENT_MODEL: z.string().min(1).optional(),
  LANDING_PAGE: z.enum(['graphiql', 'sandbox', 'true', 'false', '1', '0']).optional(),
  INTROSPECTION: bool.default(true),
  GRAPHQL_EXECUTOR: z.enum(['compiled', 'graphql-js']).default('compiled'),
  CORS_ORIGINS: z.string().optional(),
  TRUST_PROXY_HOPS: int(0, 10).default(0),
  ALLOW_OPEN_ADMIN: bool.default(false),
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  API_KEYS: z.string().default('[]'),
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).default(5000),
  RATE_LIMIT_BURST: int(1, 100_000_000).default(20_000),
  /** Replicas sharing a Redis budget: while Redis is down each limits on its own with 1/N of the budget. */
  RATE_LIMIT_REPLICAS: int(1, 1000).default(1),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 512kb or 2mb').default('8mb'),
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
  PRICE_DB_PATH: z.string().min(1).default(path.join(REPO_ROOT, 'data', 'prices.sqlite')),
  FORECAST_MAX_SERIES: int(1, 1000).default(100),
  DRIFT_WINDOW: int(10, 1_000_000).default(5000),
  DRIFT_MIN_OBSERVATIONS: int(1, 1_000_000).default(DEFAULT_DRIFT_MIN_OBSERVATIONS),
  MODEL_WATCH: bool.default(true),
  AUDIT_DB_PATH: z.string().min(1).default(path.join(REPO_ROOT, 'data', 'audit.sqlite')),
  AUDIT_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  PRICE_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  REMOTE_API_KEY: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().regex(/^https?:\/\//, 'an http(s):// URL').optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('fin-intel-gateway'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
  ANSWER_CACHE_MAX_BYTES: z.string().regex(/^\d+(kb|mb|gb)?$/i, 'bytes, or a size such as 64mb (0: off)')
    .transform((v) => Number.parseInt(v, 10) * (({ kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as Record<string, number>)[v.slice(-2).toLowerCase()] ?? 1)).default(64 * 1024 ** 2),
  ANSWER_CACHE_TTL_S: int(0, 365 * 86_400).default(86_400),
  ANSWER_CACHE_HTTP_MAX_AGE_S: int(0, 86_400).default(0),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_JWKS: z.string().min(1).optional(),
  JWT_ALGORITHMS: z.string().default('RS256,PS256,ES256,EdDSA'),
  JWT_CLOCK_TOLERANCE_S: int(0, 600).default(30),
  JWT_SCOPES_CLAIM: z.string().regex(/^[\w:-]+(\.[\w:-]+)*$/, 'a claim name or dotted path such as realm_access.roles').default('scope'),
  JWT_SCOPE_MAP: z.string().optional(),
  TRUSTED_DOCUMENTS: z.enum(['off', 'on']).default('off'),
  TRUSTED_DOCUMENTS_FILE: z.string().min(1).optional(),
  TRUSTED_DOCUMENTS_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  TRUSTED_DOCUMENTS_REFRESH_S: int(0, 86_400).default(10),
});

export interface GatewayConfig {
  readonly env: 'production' | 'development' | 'test';
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly models: {
    readonly dir: string;
    /** Only these model names are loaded (all manifests when undefined). */
    readonly only: readonly string[] | undefined;
    readonly batching: Readonly<Record<string, BatchingOverride>>;
    readonly allowRemote: boolean;
    /** Replaces the sentiment model: a local folder or a hub id (needs ALLOW_REMOTE_MODELS). */
    readonly sentimentOverride: string | undefined;
    /** onnxruntime intra-op threads of each transformer model worker. */
    readonly inferenceThreads: number;
    /** Worker threads per transformer model, each running one batch at a time. */
    readonly modelWorkers: number;
    /** Where the ONNX tabular models run: one worker thread per model version, or the event loop. */
    readonly tabularRuntime: 'worker' | 'event-loop';
    /** Bearer key for remote v2 model servers (manifests with runtime "remote"). */
    readonly remoteApiKey: string | undefined;
    /** Observations per model kept for drift monitoring. */
    readonly driftWindow: number;
    /** Longest an item waits in a model's queue before it is refused (OVERLOADED); a manifest's maxQueueMs wins. */
    readonly queueTimeoutMs: number;
    /** Fewer observations than this in the window: drift status INSUFFICIENT_DATA. */
    readonly driftMinObservations: number;
    /** Activate a new version when a model's manifest.json changes. */
    readonly watch: boolean;
  };
  readonly http: {
    /** The page `GET /graphql` shows a browser: the bundled GraphiQL, Apollo's Sandbox (from its CDN), or none. */
    readonly landingPage: 'graphiql' | 'sandbox' | 'off';
    readonly introspection: boolean;
    /** How queries execute: compiled per document by graphql-jit once seen twice, or always by graphql-js. */
    readonly executor: 'compiled' | 'graphql-js';
    /** Reverse proxies in front whose X-Forwarded-For is believed (client addresses key anonymous rate limits). */
    readonly trustProxyHops: number;
    /** Origins allowed to call from a browser (CORS); empty: no CORS headers, same-origin only. */
    readonly corsOrigins: readonly string[];
    /** How long readiness says 503 while the listener still serves, before it closes (load balancers catch up). */
    readonly shutdownDelayMs: number;
    /** GraphQL requests in progress beyond which new ones are refused at once with 503 (admission control). */
    readonly maxConcurrentRequests: number;
    /** The largest deadline (ms) a request's x-request-timeout may set. */
    readonly maxRequestTimeoutMs: number;
    readonly bodyLimit: string;
    readonly shutdownTimeoutMs: number;
    /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
    readonly metricsToken: string | undefined;
  };
  readonly limits: {
    readonly maxQueryDepth: number;
    readonly maxQueryComplexity: number;
    /** `measure`: operations over maxQueryComplexity run, logged and counted, instead of being refused. */
    readonly demandControl: 'enforce' | 'measure';
    /** Lexical tokens a query text may have; parsing stops past them (GraphQL Armor's max-tokens). */
    readonly maxQueryTokens: number;
    readonly sentimentMaxTexts: number;
    readonly sentimentMaxTextLength: number;
    readonly creditMaxAccounts: number;
    readonly forecastMaxSeries: number;
  };
  readonly access: {
    /** Hashed API keys with their scopes; none: the gateway runs open. */
    readonly apiKeys: readonly ApiKeyConfig[];
    /** Query-complexity units per second per caller (0: no rate limit). */
    readonly ratePerSecond: number;
    readonly rateBurst: number;
    /** RATE_LIMIT_REPLICAS: the share of the budget each replica takes while Redis is down is 1/N. */
    readonly rateReplicas: number;
    /** Redis shared by the replicas for rate limits; undefined: each process keeps its own buckets. */
    readonly redisUrl: string | undefined;
    /** With no API keys, let anonymous callers use admin mutations and read the audit trail. */
    readonly allowOpenAdmin: boolean;
    /** Bearer JWTs of one OIDC issuer, beside API keys; undefined: API keys only. */
    readonly jwt: JwtConfig | undefined;
    /** Registered operations (an Apollo persisted-query manifest) and whether only they may run. */
    readonly trustedDocuments: {
      readonly enforce: boolean;
      readonly file: string | undefined;
      /** PostgreSQL URL of the `trusted_documents` table the replicas share, instead of a file. */
      readonly databaseUrl: string | undefined;
      /** How often the file or table is read again (0: only at start and on POST /trusted-documents/refresh). */
      readonly refreshMs: number;
    };
  };
  /** SQLite file of the credit decision record (created on first start). */
  readonly auditDbPath: string;
  /** PostgreSQL URL of the decision record, replacing the SQLite file (several instances). */
  readonly auditDatabaseUrl: string | undefined;
  /** OTLP/HTTP collector for traces; undefined: tracing off. */
  readonly tracing: { readonly endpoint: string; readonly serviceName: string } | undefined;
  /** SQLite file of the price store (created on first start). */
  readonly priceDbPath: string;
  /** PostgreSQL URL of the price store, replacing the SQLite file (replicas sharing one store). */
  readonly priceDatabaseUrl: string | undefined;
  /** Cached deterministic answers (sentiment, forecasts, stored prices); shared through access.redisUrl when set. */
  readonly answerCache: {
    /** Bound of the local LRU in estimated bytes; 0: no caching. */
    readonly maxBytes: number;
    /** How long an answer is kept, locally and in Redis (0: until evicted). */
    readonly ttlMs: number;
    /** max-age of Cache-Control on queries made only of cacheable fields (0: no such header). */
    readonly httpMaxAgeS: number;
  };
  readonly credit: {
    /** APPROVE below this probability of default. */
    readonly approveBelow: number;
    /** DECLINE from this probability of default; REVIEW in between. */
    readonly declineFrom: number;
  };
}

export class ConfigError extends Error {}

/**
 * Parses and validates the environment once, at start. Every problem is reported in one message.
 * @example loadConfig({ PORT: '8080' }).port === 8080
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): GatewayConfig {
  const given = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = i.path.join('.');
      const value = given[name];
      return `${name}: ${i.message.replace(/, received NaN$/, '')}${value === undefined ? '' : ` (got "${value.slice(0, 80)}")`}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  let batchingJson: unknown = {};
  try {
    batchingJson = JSON.parse(e.MODEL_BATCHING);
  } catch {
    problems.push('MODEL_BATCHING must be JSON such as {"sentiment-bert":{"maxBatchSize":64}}');
  }
  const batching = z.record(z.string(), batchingSchema).safeParse(batchingJson);
  if (!batching.success) problems.push(`MODEL_BATCHING: ${batching.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  let apiKeys: ApiKeyConfig[] = [];
  try {
    apiKeys = parseApiKeys(e.API_KEYS);
  } catch (error) {
    problems.push((error as Error).message.replace(/^invalid configuration: /, ''));
  }
  let jwt: JwtConfig | undefined;
  try {
    jwt = parseJwtSettings(e);
  } catch (error) {
    problems.push((error as Error).message.replace(/^invalid configuration: /, ''));
  }
  if (e.TRUSTED_DOCUMENTS === 'on' && !e.TRUSTED_DOCUMENTS_FILE && !e.TRUSTED_DOCUMENTS_DATABASE_URL) problems.push('TRUSTED_DOCUMENTS=on needs TRUSTED_DOCUMENTS_FILE (npm run trusted-documents writes one) or TRUSTED_DOCUMENTS_DATABASE_URL');
  if (e.TRUSTED_DOCUMENTS_FILE && e.TRUSTED_DOCUMENTS_DATABASE_URL) problems.push('TRUSTED_DOCUMENTS_FILE and TRUSTED_DOCUMENTS_DATABASE_URL are both set: choose one source of trusted documents');
  if (e.TRUSTED_DOCUMENTS_FILE && !existsSync(e.TRUSTED_DOCUMENTS_FILE)) problems.push(`TRUSTED_DOCUMENTS_FILE ${e.TRUSTED_DOCUMENTS_FILE} does not exist`);
  if (e.RATE_LIMIT_PER_SECOND > 0 && e.RATE_LIMIT_BURST < e.MAX_QUERY_COMPLEXITY) {
    problems.push(`RATE_LIMIT_BURST (${e.RATE_LIMIT_BURST}) must be at least MAX_QUERY_COMPLEXITY (${e.MAX_QUERY_COMPLEXITY}), or the largest allowed query could never run`);
  }
  if (e.CREDIT_APPROVE_MAX_PD >= e.CREDIT_DECLINE_MIN_PD) {
    problems.push(`CREDIT_APPROVE_MAX_PD (${e.CREDIT_APPROVE_MAX_PD}) must be below CREDIT_DECLINE_MIN_PD (${e.CREDIT_DECLINE_MIN_PD})`);
  }
  if (e.DRIFT_MIN_OBSERVATIONS > e.DRIFT_WINDOW) {
    problems.push(`DRIFT_MIN_OBSERVATIONS (${e.DRIFT_MIN_OBSERVATIONS}) must not exceed DRIFT_WINDOW (${e.DRIFT_WINDOW}), or drift could never be reported`);
  }
  const only = e.MODELS?.split(',').map((m) => m.trim()).filter(Boolean);
  const modelsDir = path.resolve(e.MODELS_DIR);
  // A missing folder is start-up's to report (it names the folder); names are checked here, beside the other settings.
  if (only && existsSync(modelsDir)) {
    const found = readdirSync(modelsDir, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(path.join(modelsDir, d.name, 'manifest.json'))).map((d) => d.name).sort();
    const unknown = only.filter((m) => !found.includes(m));
    if (unknown.length) problems.push(`MODELS names unknown model(s) ${unknown.join(', ')}; found ${found.join(', ') || 'none'}`);
  }
  let landingPage: ReturnType<typeof parseLandingPage> = 'graphiql';
  let corsOrigins: ReturnType<typeof parseCorsOrigins> = [];
  try {
    landingPage = parseLandingPage(e.LANDING_PAGE, e.INTROSPECTION);
  } catch (error) {
    problems.push((error as Error).message.replace(/^invalid configuration: /, ''));
  }
  try {
    corsOrigins = parseCorsOrigins(e.CORS_ORIGINS);
  } catch (error) {
    problems.push((error as Error).message.replace(/^invalid configuration: /, ''));
  }
  if (e.SENTIMENT_MODEL && !e.ALLOW_REMOTE_MODELS && !path.isAbsolute(e.SENTIMENT_MODEL) && !e.SENTIMENT_MODEL.startsWith('.')) {
    problems.push(`SENTIMENT_MODEL ${e.SENTIMENT_MODEL} looks like a hub id; set ALLOW_REMOTE_MODELS=true or give a local folder path`);
  }
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return deepFreeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    models: {
      dir: path.resolve(e.MODELS_DIR),
      only: e.MODELS?.split(',').map((s) => s.trim()).filter(Boolean),
      batching: batching.data ?? {},
      allowRemote: e.ALLOW_REMOTE_MODELS,
      sentimentOverride: e.SENTIMENT_MODEL,
      inferenceThreads: e.INFERENCE_THREADS,
      modelWorkers: e.MODEL_WORKERS,
      tabularRuntime: e.TABULAR_RUNTIME,
      remoteApiKey: e.REMOTE_API_KEY,
      driftWindow: e.DRIFT_WINDOW,
      queueTimeoutMs: e.QUEUE_TIMEOUT_MS,
      driftMinObservations: e.DRIFT_MIN_OBSERVATIONS,
      watch: e.MODEL_WATCH,
    },
    http: {
      landingPage, introspection: e.INTROSPECTION, executor: e.GRAPHQL_EXECUTOR, corsOrigins, trustProxyHops: e.TRUST_PROXY_HOPS, bodyLimit: e.BODY_LIMIT,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS, shutdownDelayMs: e.SHUTDOWN_DELAY_MS, metricsToken: e.METRICS_TOKEN,
      maxConcurrentRequests: e.MAX_CONCURRENT_REQUESTS, maxRequestTimeoutMs: e.REQUEST_TIMEOUT_MAX_MS,
    },
    limits: {
      maxQueryDepth: e.MAX_QUERY_DEPTH,
      maxQueryComplexity: e.MAX_QUERY_COMPLEXITY,
      demandControl: e.DEMAND_CONTROL,
      maxQueryTokens: e.MAX_QUERY_TOKENS,
      sentimentMaxTexts: e.SENTIMENT_MAX_TEXTS,
      sentimentMaxTextLength: e.SENTIMENT_MAX_TEXT_LENGTH,
      creditMaxAccounts: e.CREDIT_MAX_ACCOUNTS,
      forecastMaxSeries: e.FORECAST_MAX_SERIES,
    },
    access: { apiKeys, ratePerSecond: e.RATE_LIMIT_PER_SECOND, rateBurst: e.RATE_LIMIT_BURST, rateReplicas: e.RATE_LIMIT_REPLICAS, redisUrl: e.REDIS_URL, allowOpenAdmin: e.ALLOW_OPEN_ADMIN,
      jwt, trustedDocuments: { enforce: e.TRUSTED_DOCUMENTS === 'on', file: e.TRUSTED_DOCUMENTS_FILE && path.resolve(e.TRUSTED_DOCUMENTS_FILE),
        databaseUrl: e.TRUSTED_DOCUMENTS_DATABASE_URL, refreshMs: e.TRUSTED_DOCUMENTS_REFRESH_S * 1000 } },
    auditDatabaseUrl: e.AUDIT_DATABASE_URL,
    auditDbPath: e.AUDIT_DB_PATH === ':memory:' ? e.AUDIT_DB_PATH : path.resolve(e.AUDIT_DB_PATH),
    priceDatabaseUrl: e.PRICE_DATABASE_URL,
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME } : undefined,
    priceDbPath: e.PRICE_DB_PATH === ':memory:' ? e.PRICE_DB_PATH : path.resolve(e.PRICE_DB_PATH),
    answerCache: { maxBytes: e.ANSWER_CACHE_MAX_BYTES, ttlMs: e.ANSWER_CACHE_TTL_S * 1000, httpMaxAgeS: e.ANSWER_CACHE_HTTP_MAX_AGE_S },
    credit: { approveBelow: e.CREDIT_APPROVE_MAX_PD, declineFrom: e.CREDIT_DECLINE_MIN_PD },
  });
}

/** GraphiQL by default; the UI reads the schema by introspection, so it needs INTROSPECTION=true. */
function parseLandingPage(value: string | undefined, introspection: boolean): GatewayConfig['http']['landingPage'] {
  const page = value === undefined ? (introspection ? 'graphiql' : 'off')
    : value === 'sandbox' ? 'sandbox' : value === 'graphiql' || value === 'true' || value === '1' ? 'graphiql' : 'off';
  if (page !== 'off' && !introspection) {
    throw new ConfigError(`invalid configuration: LANDING_PAGE=${value} needs INTROSPECTION=true (the UI reads the schema by introspection); set LANDING_PAGE=false`);
  }
  return page;
}

/** Comma-separated origins such as https://app.example.com, or * for any origin. */
function parseCorsOrigins(value: string | undefined): string[] {
  const origins = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = origins.filter((o) => o !== '*' && !/^https?:\/\/[\w.-]+(:\d{1,5})?$/.test(o));
  if (bad.length) throw new ConfigError(`invalid configuration: CORS_ORIGINS: each origin must be scheme://host[:port] with no path (or *), got ${bad.join(', ')}`);
  return origins;
}

const apiKeysSchema = z.array(z.object({
  name: z.string().regex(/^[\w.-]{1,64}$/, '1..64 letters, digits, _ . -'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the hex SHA-256 of the key'),
  scopes: z.array(z.enum(SCOPES)).min(1),
  priority: z.enum(PRIORITIES).optional(),
}).strict());

function parseApiKeys(json: string): ApiKeyConfig[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ConfigError('invalid configuration: API_KEYS must be JSON such as [{"name":"frontend","sha256":"<hex>","scopes":["sentiment:read"]}]');
  }
  const parsed = apiKeysSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`invalid configuration: API_KEYS: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const names = parsed.data.map((k) => k.name);
  if (new Set(names).size !== names.length) throw new ConfigError('invalid configuration: API_KEYS: key names must be unique');
  return parsed.data;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The federation router's settings (`npm run router`): its spans go where the gateway's do, under its own name.
 * @example loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing?.serviceName === 'federation-router'
 */
export function loadRouterConfig(source: Record<string, string | undefined> = process.env): { readonly tracing: GatewayConfig['tracing'] } {
  const given = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = envSchema.pick({ OTEL_EXPORTER_OTLP_ENDPOINT: true })
    .extend({ OTEL_SERVICE_NAME: z.string().min(1).default('federation-router') }).safeParse(given);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = parsed.data;
  return Object.freeze({ tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME } : undefined });
}
