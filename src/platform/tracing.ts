import { context, propagation, SpanKind, SpanStatusCode, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

/**
 * The gateway's tracer. Without `startTracing` it is OpenTelemetry's no-op tracer, so the spans below
 * cost next to nothing when tracing is off (the default).
 */
export const tracer = trace.getTracer('fin-intel-gateway');

/**
 * Exports spans over OTLP/HTTP to `endpoint` (…/v1/traces is appended): one per HTTP request (with the
 * GraphQL operation's name), one per model batch (linked to every request in it), one per remote
 * inference (whose traceparent the remote server continues), so a slow request can be followed across
 * replicas. Note: it enables OpenTelemetry's async context tracking, which costs some throughput.
 */
export function startTracing(endpoint: string, serviceName: string): { shutdown(): Promise<void> } {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` })),
    ],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

/**
 * A server span for one HTTP request (named after the route), continuing the caller's traceparent; `run`
 * (the rest of the request) runs inside it, and the span ends when the response has been sent.
 */
export function traceServerRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: { name: string; url: string },
  run: () => void,
): void {
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan(
    `${req.method} ${route.name}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': route.url.split('?')[0] },
    },
    parent,
  );
  res.once('finish', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), run);
}

/** traceServerRequest as Express middleware, for the routes Express serves. */
export const traceRequests: RequestHandler = (req, res, next) => {
  traceServerRequest(req, res, { name: req.baseUrl || req.path, url: req.originalUrl }, next);
};

/** The span context of the work in progress, to link a shared batch to the requests it serves. */
export function currentSpanContext(): SpanContext | undefined {
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span.spanContext() : undefined;
}

/** Links to distinct span contexts (a batch links each request once). */
export function linksTo(contexts: ReadonlyArray<SpanContext | undefined>): Link[] {
  const seen = new Map<string, SpanContext>();
  for (const c of contexts) if (c) seen.set(c.spanId, c);
  return [...seen.values()].map((c) => ({ context: c }));
}

/** Headers that carry the active trace to another server (W3C traceparent). */
export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}
