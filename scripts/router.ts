// npm run router [-- SUPERGRAPH [PORT]]: a federation router (Hive Gateway's runtime) serving a composed
// supergraph on PORT (default 4100; 0 picks a free one), for trying federation on one machine, with
// deploy/gateway.config.ts (the callers' credentials, request id and trace context go to the subgraphs). With
// OTEL_EXPORTER_OTLP_ENDPOINT it exports its own spans (Hive Gateway's OpenTelemetry plugin) and sends its own
// traceparent on, so a trace runs caller -> router -> replica. In production run Hive Gateway or Apollo Router
// themselves (compose.yaml runs Hive Gateway with the same configuration and the CLI's --opentelemetry).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { useOpenTelemetry } from '@graphql-hive/plugin-opentelemetry';
import { openTelemetrySetup } from '@graphql-hive/plugin-opentelemetry/setup';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { gatewayConfig } from '../deploy/gateway.config.js';
import { loadRouterConfig } from '../src/platform/config.js';

const [file = 'deploy/supergraph.graphql', port = '4100'] = process.argv.slice(2);
const { tracing } = loadRouterConfig();
if (tracing) {
  // Process-wide, as the plugin expects: the tracer provider, W3C trace-context propagation, async context.
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: tracing.serviceName },
    traces: { exporter: new OTLPTraceExporter({ url: `${tracing.endpoint.replace(/\/+$/, '')}/v1/traces` }) },
  });
}
const runtime = createGatewayRuntime({
  supergraph: readFileSync(file, 'utf8'),
  ...gatewayConfig,
  // biome-ignore lint/correctness/useHookAtTopLevel: a Hive Gateway plugin factory, not a React hook
  plugins: (ctx) => (tracing ? [useOpenTelemetry({ ...ctx, traces: true })] : []),
});
const router = http.createServer(runtime);
router.listen(Number(port), () => {
  console.log(
    `federation router on http://localhost:${(router.address() as AddressInfo).port}/graphql (supergraph ${file}${tracing ? `, spans to ${tracing.endpoint}` : ''})`,
  );
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  // Closing the runtime flushes the spans still batched.
  process.once(signal, () =>
    router.close(() => void Promise.resolve(runtime.dispose()).finally(() => process.exit(0))),
  );
}
