import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadRouterConfig } from '../../src/platform/config.js';

describe('loadConfig', () => {
  it('has production defaults and is frozen', () => {
    const c = loadConfig({});
    assert.equal(c.port, 4000);
    assert.equal(c.limits.sentimentMaxTexts, 256);
    assert.equal(c.limits.sentimentMaxTextLength, 2000);
    assert.equal(c.http.landingPage, 'graphiql');
    assert.equal(c.http.introspection, true);
    assert.deepEqual(c.http.corsOrigins, []);
    assert.equal(c.access.allowOpenAdmin, false, 'admin is closed unless asked for');
    assert.equal(c.models.driftMinObservations, 300);
    assert.equal(c.models.allowRemote, false);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.limits));
  });

  it('reads variables and per-model batching', () => {
    const c = loadConfig({
      PORT: '8080',
      LANDING_PAGE: 'false',
      MODEL_BATCHING: '{"sentiment-bert":{"maxBatchSize":64}}',
      MODELS: 'sentiment-bert, credit-gbt',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.http.landingPage, 'off');
    assert.equal(loadConfig({ LANDING_PAGE: 'sandbox' }).http.landingPage, 'sandbox');
    assert.equal(loadConfig({ INTROSPECTION: 'false' }).http.landingPage, 'off', 'no UI without introspection');
    assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000' }).http.corsOrigins, [
      'https://a.example.com',
      'http://localhost:3000',
    ]);
    assert.equal(c.models.batching['sentiment-bert']!.maxBatchSize, 64);
    assert.deepEqual(c.models.only, ['sentiment-bert', 'credit-gbt']);
  });

  it('reports every problem in one message', () => {
    assert.throws(
      () => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' }),
      (e: Error) => e instanceof ConfigError && /PORT/.test(e.message) && /LOG_LEVEL/.test(e.message),
    );
    assert.throws(() => loadConfig({ MODEL_BATCHING: '{not json' }), /MODEL_BATCHING must be JSON/);
    assert.throws(() => loadConfig({ MODEL_BATCHING: '{"m":{"maxBatchSize":0}}' }), /MODEL_BATCHING: m\.maxBatchSize/);
    assert.throws(() => loadConfig({ SENTIMENT_MODEL: 'Xenova/finbert' }), /ALLOW_REMOTE_MODELS/);
    assert.throws(
      () => loadConfig({ CORS_ORIGINS: 'https://a.example.com/path' }),
      /CORS_ORIGINS: each origin must be scheme:\/\/host\[:port\]/,
    );
    assert.throws(
      () => loadConfig({ DRIFT_WINDOW: '100' }),
      /DRIFT_MIN_OBSERVATIONS \(300\) must not exceed DRIFT_WINDOW \(100\)/,
    );
  });

  it('names the value it could not read, and checks MODELS against the models folder beside the other problems', () => {
    assert.throws(
      () => loadConfig({ PORT: 'abc' }),
      (e: Error) => /PORT: .*\(got "abc"\)/.test(e.message) && !/NaN/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ MODELS: 'nope', DRIFT_WINDOW: '100' }),
      (e: Error) =>
        /MODELS names unknown model\(s\) nope; found credit-gbt, forecast-qnn, sentiment-bert/.test(e.message) &&
        /DRIFT_WINDOW/.test(e.message),
    );
  });
});

describe('the CPU budget (CPU_BUDGET)', () => {
  it('divides the budget: a quarter each to the volatility pool and a tabular session, the rest to the transformer workers', () => {
    assert.deepEqual(loadConfig({ CPU_BUDGET: '16' }).cpu, {
      budget: 16,
      inferenceThreads: 8,
      modelWorkers: 1,
      tabularThreads: 4,
      volatilityThreads: 4,
    });
    assert.deepEqual(loadConfig({ CPU_BUDGET: '16', MODEL_WORKERS: '2' }).cpu, {
      budget: 16,
      inferenceThreads: 4,
      modelWorkers: 2,
      tabularThreads: 4,
      volatilityThreads: 4,
    });
    assert.deepEqual(loadConfig({ CPU_BUDGET: '6', MODEL_WORKERS: '4' }).cpu, {
      budget: 6,
      inferenceThreads: 1,
      modelWorkers: 4,
      tabularThreads: 1,
      volatilityThreads: 1,
    });
    assert.deepEqual(
      loadConfig({ CPU_BUDGET: '2' }).cpu,
      { budget: 2, inferenceThreads: 1, modelWorkers: 1, tabularThreads: 1, volatilityThreads: 1 },
      'at least one thread each',
    );
    assert.equal(loadConfig({}).cpu.budget, os.availableParallelism());
    assert.ok(Object.isFrozen(loadConfig({}).cpu));
  });

  it('takes a share that is set as it is, and divides the rest', () => {
    assert.deepEqual(loadConfig({ CPU_BUDGET: '16', VOLATILITY_THREADS: '2', TABULAR_THREADS: '6' }).cpu, {
      budget: 16,
      inferenceThreads: 8,
      modelWorkers: 1,
      tabularThreads: 6,
      volatilityThreads: 2,
    });
    assert.deepEqual(loadConfig({ CPU_BUDGET: '8', INFERENCE_THREADS: '3', MODEL_WORKERS: '2' }).cpu, {
      budget: 8,
      inferenceThreads: 3,
      modelWorkers: 2,
      tabularThreads: 2,
      volatilityThreads: 2,
    });
  });

  it('refuses a share outside its bounds, naming it and the value', () => {
    assert.throws(
      () => loadConfig({ CPU_BUDGET: '0', VOLATILITY_THREADS: 'many' }),
      (e: Error) =>
        /CPU_BUDGET: .*\(got "0"\)/.test(e.message) && /VOLATILITY_THREADS: .*\(got "many"\)/.test(e.message),
    );
    assert.throws(() => loadConfig({ TABULAR_THREADS: '0' }), /TABULAR_THREADS: Too small/);
  });
});

describe('loadRouterConfig', () => {
  it("turns the router's spans on with OTEL_EXPORTER_OTLP_ENDPOINT, under its own service name unless one is given", () => {
    assert.equal(loadRouterConfig({}).tracing, undefined);
    assert.deepEqual(loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing, {
      endpoint: 'http://collector:4318',
      serviceName: 'federation-router',
    });
    assert.equal(
      loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'edge' }).tracing
        ?.serviceName,
      'edge',
    );
    assert.throws(
      () => loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
      (e: unknown) => e instanceof ConfigError && /OTEL_EXPORTER_OTLP_ENDPOINT: an http\(s\):\/\/ URL/.test(e.message),
    );
  });
});
