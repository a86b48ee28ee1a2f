import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { SentimentDocument } from '../generated/graphql.js';
import { gql, startTestGateway } from '../support/gateway.js';
import { startOtlpCollector, type OtlpSpan } from '../support/otlp-collector.js';

describe('OpenTelemetry tracing to an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  let collector: Awaited<ReturnType<typeof startOtlpCollector>>;
  let spans: OtlpSpan[];
  let gw: Gateway;
  before(async () => {
    collector = await startOtlpCollector();
    spans = collector.spans;
    gw = await startTestGateway({ MODELS: 'sentiment-bert', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
  });
  after(() => collector.stop());

  it("a request continues the caller's trace; its batch span links to it; spans reach the collector", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await gql(
      gw.url,
      SentimentDocument,
      { texts: ['Shares rally'] },
      { traceparent: `00-${traceId}-${parentId}-01` },
    );
    assert.equal(res.status, 200);
    await gw.stop(); // flushes the exporter
    const server = spans.find((s) => s.name === 'graphql Sentiment');
    assert.ok(server, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(server.traceId, traceId);
    assert.equal(server.parentSpanId, parentId);
    const batch = spans.find(
      (s) => s.name === 'model.batch sentiment-bert' && s.links?.some((l) => l.spanId === server.spanId),
    );
    assert.ok(batch, 'the batch span links to the request it served');
  });
});
