// Hive Gateway's configuration for this project's federation router: compose.yaml mounts it into the router
// container (the CLI reads `gatewayConfig` from gateway.config.ts), and `npm run router` uses the same object.
// Kept free of imports so that the container needs nothing from this repository but this file.

/** What a subgraph needs of the caller's request: its credentials, its correlation id and its trace context. */
export const FORWARDED_HEADERS = ['authorization', 'x-api-key', 'x-request-id', 'traceparent', 'tracestate'] as const;

export const gatewayConfig = {
  propagateHeaders: {
    /**
     * Every subgraph gets the caller's headers above, so scoped fields, rate budgets and traces are the caller's.
     * A router that traces (OpenTelemetry plugin) replaces traceparent with its own span's, the caller's trace id kept.
     */
    fromClientToSubgraphs({ request }: { request: Request }): Record<string, string> {
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_HEADERS) {
        const value = request.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      return headers;
    },
  },
};
