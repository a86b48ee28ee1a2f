import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../graphql/context.js';
import type { Logger } from '../platform/logger.js';

/** One log line per GraphQL operation: id, name, duration and error codes. Never variables or the query text. */
export function requestLoggingPlugin(logger: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, errors, response }) {
          const codes = errors?.map((e) => e.extensions?.code ?? 'UNKNOWN');
          logger.info({
            requestId: contextValue.requestId,
            operation: operationName ?? null,
            status: response.http.status ?? 200,
            durationMs: Math.round((performance.now() - started) * 10) / 10,
            ...(codes?.length ? { errorCodes: codes } : {}),
          }, 'graphql request');
        },
      };
    },
  };
}
