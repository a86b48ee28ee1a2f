import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { SentimentDocument } from '../generated/graphql.js';
import { gql, startTestGateway } from '../support/gateway.js';

interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; links?: Array<{ traceId: string; spanId: string }> }

describe('OpenTelemetry tracing to an OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  const spans: OtlpSpan[] = [];
  let collector: http.Server;
  let gw: Gateway;
  before(async () => {
    // A collector's OTLP/HTTP endpoint: takes the exporter's JSON batches, keeps their spans.
    collector = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        const batch = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const r of batch.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => collector.once('listening', resolve));
    gw = await startTestGateway({ MODELS: 'sentiment-bert', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}` });
  });
  after(() => collector.close());

  it('a request continues the caller\'s trace; its batch span links to it; spans reach the collector', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await gql(gw.url, SentimentDocument, { texts: ['Shares rally'] }, { traceparent: `00-${traceId}-${parentId}-01` });
    assert.equal(res.status, 200);
    await gw.stop(); // flushes the exporter
    const server = spans.find((s) => s.name === 'graphql Sentiment');
    assert.ok(server, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(server.traceId, traceId);
    assert.equal(server.parentSpanId, parentId);
    const batch = spans.find((s) => s.name === 'model.batch sentiment-bert' && s.links?.some((l) => l.spanId === server.spanId));
    assert.ok(batch, 'the batch span links to the request it served');
  });
});
