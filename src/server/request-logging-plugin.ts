import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import type { GatewayContext } from '../graphql/context.js';
import type { Logger } from '../platform/logger.js';
import type { GatewayMetrics } from '../platform/metrics.js';

/**
 * One log line and one metrics observation per GraphQL operation: id, name, duration and error codes.
 * Never variables or the query text.
 */
export function requestLoggingPlugin(logger: Logger, metrics: GatewayMetrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, response }) {
          // The formatted errors: their codes are the ones the caller sees.
          const formatted = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const codes = formatted?.map((e) => e.extensions?.code ?? 'UNKNOWN');
          const seconds = (performance.now() - started) / 1000;
          // The request's server span (tracing on) is named after the operation, as the log line is.
          trace
            .getActiveSpan()
            ?.updateName(`graphql ${operationName ?? 'anonymous'}`)
            .setAttribute('graphql.operation.name', operationName ?? '');
          metrics.observeOperation(operationName, codes?.length ? String(codes[0]) : 'ok', seconds);
          logger.info(
            {
              requestId: contextValue.requestId,
              ...(contextValue.clientRequestId ? { clientRequestId: contextValue.clientRequestId } : {}),
              operation: operationName ?? null,
              status: response.http.status ?? 200,
              durationMs: Math.round(seconds * 10_000) / 10,
              ...(codes?.length ? { errorCodes: codes } : {}),
            },
            'graphql request',
          );
        },
      };
    },
  };
}
