import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { SentimentDocument } from '../generated/graphql.js';
import { gql, startTestGateway } from '../support/gateway.js';

const TOKEN = 'metrics-token-0123456789';

describe('GET /metrics', () => {
  let gw: Gateway;
  let metricsUrl: string;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'sentiment-bert', METRICS_TOKEN: TOKEN });
    metricsUrl = gw.url.replace('/graphql', '/metrics');
  });
  after(() => gw.stop());

  const scrape = async () => {
    const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /text\/plain/);
    return res.text();
  };
  const value = (text: string, series: string) =>
    Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

  it('needs the token when one is configured', async () => {
    assert.equal((await fetch(metricsUrl)).status, 401);
    assert.equal((await fetch(metricsUrl, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status, 401);
  });

  it('counts inference items, batches, batch sizes, queue and compute time per model, and operations', async () => {
    const before = await scrape();
    await gql(gw.url, SentimentDocument, { texts: ['Stocks rally', 'Bonds slump', 'Oil steady'] });
    await gql(gw.url, '{ sentiment(texts: []) { label } }');
    const text = await scrape();
    const m = 'model="sentiment-bert"';
    assert.equal(
      value(text, `gateway_inference_items_total{${m}}`) - value(before, `gateway_inference_items_total{${m}}`),
      3,
    );
    assert.equal(
      value(text, `gateway_inference_batches_total{${m}}`) - value(before, `gateway_inference_batches_total{${m}}`),
      1,
    );
    assert.ok(value(text, `gateway_inference_batch_size_count{${m}}`) >= 1);
    assert.ok(value(text, `gateway_inference_queue_seconds_count{${m}}`) >= 1);
    assert.ok(value(text, `gateway_inference_compute_seconds_sum{${m}}`) > 0);
    assert.equal(value(text, 'gateway_graphql_operations_total{operation="Sentiment",outcome="ok"}'), 1);
    assert.equal(value(text, 'gateway_graphql_operations_total{operation="anonymous",outcome="BAD_USER_INPUT"}'), 1);
    assert.match(text, /^gateway_graphql_operation_seconds_bucket\{le="0.5",operation="Sentiment"\} 1$/m);
    assert.match(text, /^gateway_process_resident_memory_bytes \d+/m);
  });
});
