import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLErrorOptions, type GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import { complexityInput } from './complexity-variables.js';
import { budgetOf, costHeaders, type CostReport, type DemandControlMode } from './cost-report.js';
import { operationDepths } from './query-depth.js';
import type { RateDecision, RateLimiter } from '../platform/rate-limiter.js';
import type { GatewayContext } from './context.js';

/** Fields an operation may select once fragments are expanded (a fragment used many times counts each time). */
const MAX_QUERY_NODES = 10_000;

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxComplexity: number;
  /** `measure`: an operation over `maxComplexity` runs, and `wouldRefuse` hears of it (default `enforce`). */
  readonly demandControl?: DemandControlMode;
}

/** What measure mode reports of an operation that enforcement would have refused. */
export interface WouldRefuse {
  readonly operationName: string | null;
  readonly complexity: number;
  readonly max: number;
  readonly rateKey: string;
}

/**
 * The complexity the limits charge for an operation: fields count 1, fields with a cost rule (cost-rules.ts) what
 * it says. Throws graphql-query-complexity's errors (too many nodes, variables that do not coerce).
 */
export function estimateComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const estimated = complexityInput(schema, document, operationName, variables);
  return getComplexity({
    schema,
    query: estimated.document,
    operationName: operationName ?? undefined,
    variables: estimated.variables,
    maxQueryNodes: MAX_QUERY_NODES,
    estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
  });
}

/**
 * Rejects an operation before it executes when it nests deeper than `maxDepth` or costs more than
 * `maxComplexity` (fields count 1; fields that send items to a model count per item, so aliases and
 * long lists cannot multiply inference work past the limit), then charges the complexity to the
 * caller's rate-limit bucket (RATE_LIMITED with a retry hint when it is empty). In measure mode an operation over
 * `maxComplexity` runs and is reported to `wouldRefuse`; it is still charged (at most the bucket's capacity, so that
 * it can run at all). Every response says its cost and the caller's budget in `extensions.cost` and headers.
 */
export function queryLimitsPlugin(
  schema: GraphQLSchema,
  limits: QueryLimits,
  limiter?: RateLimiter,
  observers: { wouldRefuse?: (event: WouldRefuse) => void } = {},
): ApolloServerPlugin<GatewayContext> {
  const mode = limits.demandControl ?? 'enforce';
  // Apollo reuses the parsed document of a query text it has seen, so depth (which does not depend on
  // variables) is computed once per document rather than on every request.
  const depths = new WeakMap<DocumentNode, Map<string, number>>();
  const depthError = (document: DocumentNode, operationName: string | null | undefined): string | null => {
    let byOperation = depths.get(document);
    if (!byOperation) depths.set(document, (byOperation = operationDepths(document)));
    for (const [name, depth] of byOperation) {
      if ((!operationName || name === operationName) && depth > limits.maxDepth)
        return `'${name}' exceeds maximum operation depth of ${limits.maxDepth}`;
    }
    return null;
  };
  // A document refused for its cost still spent the caller's budget: as much as the dearest accepted one, so
  // that sending ever larger documents is not a free way to make the gateway estimate them.
  return {
    async requestDidStart() {
      // This request's cost, for its response: what was estimated, what was taken, and the last word on the budget.
      let estimated: number | null = null;
      let charged = 0;
      let budget: RateDecision | undefined;
      const take = async (rateKey: string, units: number): Promise<RateDecision | undefined> => {
        if (!limiter) return undefined;
        budget = await limiter.take(rateKey, units);
        if (budget.allowed) charged += units;
        return budget;
      };
      const chargeRefused = async (rateKey: string, units: number) => {
        await take(rateKey, units);
      };
      return {
        async didResolveOperation({ document, request, operation, operationName, contextValue }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError(
              'subscriptions are not served: this gateway answers queries and mutations over HTTP',
              {
                extensions: {
                  code: GatewayErrorCode.GRAPHQL_VALIDATION_FAILED,
                  http: { status: httpStatusOf(GatewayErrorCode.GRAPHQL_VALIDATION_FAILED) },
                },
              },
            );
          }
          const deep = depthError(document, operationName);
          if (deep) {
            throw new GraphQLError(`query depth must be at most ${limits.maxDepth}: ${deep}`, {
              extensions: {
                code: GatewayErrorCode.QUERY_TOO_DEEP,
                max: limits.maxDepth,
                http: { status: httpStatusOf(GatewayErrorCode.QUERY_TOO_DEEP) },
              },
            });
          }
          let complexity: number;
          try {
            complexity = estimateComplexity(schema, document, operationName, request.variables ?? {});
          } catch (error) {
            if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) {
              await chargeRefused(contextValue.rateKey, limits.maxComplexity);
              throw new GraphQLError(`query must select at most ${MAX_QUERY_NODES} fields, fragments expanded`, {
                extensions: {
                  code: GatewayErrorCode.QUERY_TOO_COMPLEX,
                  max: MAX_QUERY_NODES,
                  http: { status: httpStatusOf(GatewayErrorCode.QUERY_TOO_COMPLEX) },
                },
              });
            }
            // Complexity coerces the variables' lengths and scalars, so their errors surface here first: they are the caller's.
            if (error instanceof GraphQLError) {
              throw new GraphQLError(error.message, {
                extensions: {
                  code: GatewayErrorCode.BAD_USER_INPUT,
                  http: { status: httpStatusOf(GatewayErrorCode.BAD_USER_INPUT) },
                },
              });
            }
            throw error;
          }
          estimated = complexity;
          let units = complexity;
          if (complexity > limits.maxComplexity) {
            if (mode === 'enforce') {
              await chargeRefused(contextValue.rateKey, limits.maxComplexity);
              throw new GraphQLError(`query complexity must be at most ${limits.maxComplexity}, got ${complexity}`, {
                extensions: {
                  code: GatewayErrorCode.QUERY_TOO_COMPLEX,
                  complexity,
                  max: limits.maxComplexity,
                  http: { status: httpStatusOf(GatewayErrorCode.QUERY_TOO_COMPLEX) },
                },
              });
            }
            observers.wouldRefuse?.({
              operationName: operationName ?? null,
              complexity,
              max: limits.maxComplexity,
              rateKey: contextValue.rateKey,
            });
            // A bucket never holds more than its capacity: charged in full, the document could never run.
            if (limiter) units = Math.min(complexity, limiter.burst);
          }
          const decision = await take(contextValue.rateKey, units);
          if (decision && !decision.allowed) {
            const price =
              units === complexity
                ? `${units} units`
                : `${complexity} units (charged ${units}, the whole bucket, in measure mode)`;
            throw new GraphQLError(
              `rate limit: this query costs ${price} and ${contextValue.rateKey}'s budget refills at ${limiter!.perSecond} units/s; retry in ${decision.retryAfterSeconds} s`,
              {
                // Apollo Server reads http.headers as a Map (other packages' type augmentations say otherwise).
                extensions: {
                  code: GatewayErrorCode.RATE_LIMITED,
                  retryAfterSeconds: decision.retryAfterSeconds,
                  http: {
                    status: httpStatusOf(GatewayErrorCode.RATE_LIMITED),
                    headers: new Map([['retry-after', String(decision.retryAfterSeconds)]]),
                  },
                } as unknown as GraphQLErrorOptions['extensions'],
              },
            );
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          // A request stopped before its complexity was charged (parse, validation, depth) reads the budget it left.
          if (limiter && !budget && contextValue?.rateKey) budget = await limiter.take(contextValue.rateKey, 0);
          const report: CostReport = {
            estimated,
            charged,
            maxComplexity: limits.maxComplexity,
            mode,
            budget: limiter && budget ? budgetOf(limiter, budget) : null,
          };
          response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: report };
          for (const [name, value] of costHeaders(report)) response.http.headers.set(name, value);
        },
      };
    },
  };
}
