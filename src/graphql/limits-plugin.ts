import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLErrorOptions, type GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import { complexityInput } from './complexity-variables.js';
import { operationDepths } from './query-depth.js';
import type { RateLimiter } from '../platform/rate-limiter.js';
import type { GatewayContext } from './context.js';

/** Fields an operation may select once fragments are expanded (a fragment used many times counts each time). */
const MAX_QUERY_NODES = 10_000;

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxComplexity: number;
}

/**
 * Rejects an operation before it executes when it nests deeper than `maxDepth` or costs more than
 * `maxComplexity` (fields count 1; fields that send items to a model count per item, so aliases and
 * long lists cannot multiply inference work past the limit), then charges the complexity to the
 * caller's rate-limit bucket (RATE_LIMITED with a retry hint when it is empty).
 */
export function queryLimitsPlugin(schema: GraphQLSchema, limits: QueryLimits, limiter?: RateLimiter): ApolloServerPlugin<GatewayContext> {
  // Apollo reuses the parsed document of a query text it has seen, so depth (which does not depend on
  // variables) is computed once per document rather than on every request.
  const depths = new WeakMap<DocumentNode, Map<string, number>>();
  const depthError = (document: DocumentNode, operationName: string | null | undefined): string | null => {
    let byOperation = depths.get(document);
    if (!byOperation) depths.set(document, (byOperation = operationDepths(document)));
    for (const [name, depth] of byOperation) {
      if ((!operationName || name === operationName) && depth > limits.maxDepth) return `'${name}' exceeds maximum operation depth of ${limits.maxDepth}`;
    }
    return null;
  };
  // A document refused for its cost still spent the caller's budget: as much as the dearest accepted one, so
  // that sending ever larger documents is not a free way to make the gateway estimate them.
  const chargeRefused = async (rateKey: string, units: number) => {
    await limiter?.take(rateKey, units);
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operation, operationName, contextValue }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('subscriptions are not served: this gateway answers queries and mutations over HTTP', {
              extensions: { code: GatewayErrorCode.GRAPHQL_VALIDATION_FAILED, http: { status: httpStatusOf(GatewayErrorCode.GRAPHQL_VALIDATION_FAILED) } },
            });
          }
          const deep = depthError(document, operationName);
          if (deep) {
            throw new GraphQLError(`query depth must be at most ${limits.maxDepth}: ${deep}`, {
              extensions: { code: GatewayErrorCode.QUERY_TOO_DEEP, max: limits.maxDepth, http: { status: httpStatusOf(GatewayErrorCode.QUERY_TOO_DEEP) } },
            });
          }
          let complexity: number;
          try {
            const estimated = complexityInput(schema, document, operationName, request.variables ?? {});
            complexity = getComplexity({
              schema, query: estimated.document, operationName: operationName ?? undefined, variables: estimated.variables, maxQueryNodes: MAX_QUERY_NODES,
              estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch (error) {
            if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) {
              await chargeRefused(contextValue.rateKey, limits.maxComplexity);
              throw new GraphQLError(`query must select at most ${MAX_QUERY_NODES} fields, fragments expanded`, {
                extensions: { code: GatewayErrorCode.QUERY_TOO_COMPLEX, max: MAX_QUERY_NODES, http: { status: httpStatusOf(GatewayErrorCode.QUERY_TOO_COMPLEX) } },
              });
            }
            // Complexity coerces the variables' lengths and scalars, so their errors surface here first: they are the caller's.
            if (error instanceof GraphQLError) {
              throw new GraphQLError(error.message, { extensions: { code: GatewayErrorCode.BAD_USER_INPUT, http: { status: httpStatusOf(GatewayErrorCode.BAD_USER_INPUT) } } });
            }
            throw error;
          }
          if (complexity > limits.maxComplexity) {
            await chargeRefused(contextValue.rateKey, limits.maxComplexity);
            throw new GraphQLError(`query complexity must be at most ${limits.maxComplexity}, got ${complexity}`, {
              extensions: { code: GatewayErrorCode.QUERY_TOO_COMPLEX, complexity, max: limits.maxComplexity, http: { status: httpStatusOf(GatewayErrorCode.QUERY_TOO_COMPLEX) } },
            });
          }
          const decision = await limiter?.take(contextValue.rateKey, complexity);
          if (decision && !decision.allowed) {
            throw new GraphQLError(`rate limit: this query costs ${complexity} units and ${contextValue.rateKey}'s budget refills at ${limiter!.perSecond} units/s; retry in ${decision.retryAfterSeconds} s`, {
              // Apollo Server reads http.headers as a Map (other packages' type augmentations say otherwise).
              extensions: { code: GatewayErrorCode.RATE_LIMITED, retryAfterSeconds: decision.retryAfterSeconds,
                http: { status: httpStatusOf(GatewayErrorCode.RATE_LIMITED), headers: new Map([['retry-after', String(decision.retryAfterSeconds)]]) } } as unknown as GraphQLErrorOptions['extensions'],
            });
          }
        },
      };
    },
  };
}
