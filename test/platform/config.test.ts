import assert from 'node:assert/strict';
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
    const c = loadConfig({ PORT: '8080', LANDING_PAGE: 'false', MODEL_BATCHING: '{"sentiment-bert":{"maxBatchSize":64}}', MODELS: 'sentiment-bert, credit-gbt' });
    assert.equal(c.port, 8080);
    assert.equal(c.http.landingPage, 'off');
    assert.equal(loadConfig({ LANDING_PAGE: 'sandbox' }).http.landingPage, 'sandbox');
    assert.equal(loadConfig({ INTROSPECTION: 'false' }).http.landingPage, 'off', 'no UI without introspection');
    assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000' }).http.corsOrigins, ['https://a.example.com', 'http://localhost:3000']);
    assert.equal(c.models.batching['sentiment-bert']!.maxBatchSize, 64);
    assert.deepEqual(c.models.only, ['sentiment-bert', 'credit-gbt']);
  });

  it('reports every problem in one message', () => {
    assert.throws(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' }), (e: Error) =>
      e instanceof ConfigError && /PORT/.test(e.message) && /LOG_LEVEL/.test(e.message));
    assert.throws(() => loadConfig({ MODEL_BATCHING: '{not json' }), /MODEL_BATCHING must be JSON/);
    assert.throws(() => loadConfig({ MODEL_BATCHING: '{"m":{"maxBatchSize":0}}' }), /MODEL_BATCHING: m\.maxBatchSize/);
    assert.throws(() => loadConfig({ SENTIMENT_MODEL: 'Xenova/finbert' }), /ALLOW_REMOTE_MODELS/);
    assert.throws(() => loadConfig({ CORS_ORIGINS: 'https://a.example.com/path' }), /CORS_ORIGINS: each origin must be scheme:\/\/host\[:port\]/);
    assert.throws(() => loadConfig({ DRIFT_WINDOW: '100' }), /DRIFT_MIN_OBSERVATIONS \(300\) must not exceed DRIFT_WINDOW \(100\)/);
  });

  it('names the value it could not read, and checks MODELS against the models folder beside the other problems', () => {
    assert.throws(() => loadConfig({ PORT: 'abc' }), (e: Error) => /PORT: .*\(got "abc"\)/.test(e.message) && !/NaN/.test(e.message));
    assert.throws(() => loadConfig({ MODELS: 'nope', DRIFT_WINDOW: '100' }), (e: Error) =>
      /MODELS names unknown model\(s\) nope; found credit-gbt, forecast-qnn, sentiment-bert/.test(e.message) && /DRIFT_WINDOW/.test(e.message));
  });
});

describe('loadRouterConfig', () => {
  it('turns the router\'s spans on with OTEL_EXPORTER_OTLP_ENDPOINT, under its own service name unless one is given', () => {
    assert.equal(loadRouterConfig({}).tracing, undefined);
    assert.deepEqual(loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing, { endpoint: 'http://collector:4318', serviceName: 'federation-router' });
    assert.equal(loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'edge' }).tracing?.serviceName, 'edge');
    assert.throws(() => loadRouterConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), (e: unknown) => e instanceof ConfigError && /OTEL_EXPORTER_OTLP_ENDPOINT: an http\(s\):\/\/ URL/.test(e.message));
  });
});
