import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links?: Array<{ traceId: string; spanId: string }>;
  /** The exporting process's service.name (its resource's), to tell a router's spans from a replica's. */
  service?: string;
}

/** A collector's OTLP/HTTP endpoint on loopback: takes exporters' JSON batches and keeps their spans. */
export async function startOtlpCollector(): Promise<{ url: string; spans: OtlpSpan[]; stop: () => void }> {
  const spans: OtlpSpan[] = [];
  const server = http
    .createServer((req, res) => {
      let body = '';
      req
        .setEncoding('utf8')
        .on('data', (chunk: string) => (body += chunk))
        .on('end', () => {
          const batch = JSON.parse(body) as {
            resourceSpans: Array<{
              resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
              scopeSpans: Array<{ spans: OtlpSpan[] }>;
            }>;
          };
          for (const r of batch.resourceSpans) {
            const service = r.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
            for (const s of r.scopeSpans) spans.push(...s.spans.map((span) => ({ ...span, service })));
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
    })
    .listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, stop: () => server.close() };
}
