import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import {
  execute,
  GraphQLError,
  Kind,
  printSchema,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GatewayContext } from './context.js';

type ExecutorSource = NonNullable<ApolloServerOptionsWithGateway<GatewayContext>['gateway']>;
type Executor = NonNullable<Awaited<ReturnType<ExecutorSource['load']>>['executor']>;

/** A document is compiled the second time it is executed: one-off documents cost no compilation. */
const COMPILE_ON_USE = 2;
/**
 * Operations selecting more fields than this (fragments expanded) are not compiled. Compiling costs about
 * 0.07 ms per field on the event loop (2,400 fields: 180 ms), while graphql-js pays per field and request; hot
 * operations are small (the examples select 10 to 30), and a huge document sent twice must not stall the loop.
 */
const MAX_COMPILED_FIELDS = 100;

interface OperationPlan {
  uses: number;
  /** The compiled query, or null where graphql-jit could not compile it (graphql-js runs it). */
  compiled?: CompiledQuery | null;
}

/**
 * Runs queries with graphql-jit: the operation's variable coercion, resolver calls and result completion are
 * compiled into one function per document, instead of graphql-js walking the document for each request. For
 * 1,000 credit accounts, graphql-js spends tens of milliseconds coercing the inputs and completing ~14,000
 * result fields; the compiled query does the same in a few. Apollo Server keeps one parsed document per query
 * text (its document store), so plans are kept per document and go when it does.
 *
 * graphql-js still runs: a document's first execution, mutations (rare, and executed in series), operations
 * of more than MAX_COMPILED_FIELDS fields, anything graphql-jit cannot compile, and every request whose
 * variables fail coercion, so that the caller gets
 * graphql-js's error (with the path of the bad input) and Apollo's BAD_USER_INPUT for it.
 */
export function compiledQueryExecutor(
  schema: GraphQLSchema,
  onExecute: (executor: 'compiled' | 'graphql-js') => void = () => undefined,
): Executor {
  const plans = new WeakMap<DocumentNode, Map<string, OperationPlan>>();
  const planOf = (document: DocumentNode, operationName: string | null): OperationPlan => {
    let byName = plans.get(document);
    if (!byName) plans.set(document, (byName = new Map()));
    let plan = byName.get(operationName ?? '');
    if (!plan) byName.set(operationName ?? '', (plan = { uses: 0 }));
    return plan;
  };
  const interpreted = (
    document: DocumentNode,
    operationName: string | null,
    context: GatewayContext,
    variables: Record<string, unknown> | undefined,
  ) => {
    onExecute('graphql-js');
    return execute({ schema, document, operationName, contextValue: context, variableValues: variables }) as
      | Promise<ExecutionResult>
      | ExecutionResult;
  };

  return async ({ document, operationName, operation, context, request }) => {
    const gatewayContext = context as GatewayContext;
    // Apollo hands a gateway executor whatever operation the name picked, and nothing when it picked none
    // (a name that matches no operation, or several anonymous ones): that is the caller's mistake.
    if (!(operation as OperationDefinitionNode | undefined)) return unresolvedOperation(request.operationName ?? null);
    if (operation.operation !== 'query') return interpreted(document, operationName, gatewayContext, request.variables);
    const plan = planOf(document, operationName);
    plan.uses++;
    if (plan.compiled === undefined && plan.uses >= COMPILE_ON_USE) {
      const compiled =
        selectedFields(document, operation, MAX_COMPILED_FIELDS + 1) <= MAX_COMPILED_FIELDS
          ? compileQuery(schema, document, operationName ?? undefined)
          : null;
      plan.compiled = compiled && isCompiledQuery(compiled) ? compiled : null;
    }
    if (!plan.compiled) return interpreted(document, operationName, gatewayContext, request.variables);
    onExecute('compiled');
    const result = (await plan.compiled.query(undefined, gatewayContext, request.variables ?? {})) as ExecutionResult;
    // No data at all: the variables did not coerce. graphql-js says why, in the words callers are given.
    if (result.data === undefined && result.errors?.length)
      return interpreted(document, operationName, gatewayContext, request.variables);
    return result.errors?.length ? { ...result, errors: result.errors.map(asGraphQLJsError) } : result;
  };
}

/** The answer graphql-js gives when the operation name picks no operation, with Apollo's code for it and a 400. */
function unresolvedOperation(operationName: string | null): ExecutionResult {
  const message =
    operationName === null
      ? 'Must provide operation name if query contains multiple operations.'
      : `Unknown operation named "${operationName}".`;
  return {
    errors: [
      new GraphQLError(message, {
        extensions: {
          code: GatewayErrorCode.OPERATION_RESOLUTION_FAILURE,
          http: { status: httpStatusOf(GatewayErrorCode.OPERATION_RESOLUTION_FAILURE) },
        },
      }),
    ],
  };
}

/** Fields an operation selects, each fragment spread counted in full, counting stopped at `stopAt`. */
function selectedFields(document: DocumentNode, operation: OperationDefinitionNode, stopAt: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let count = 0;
  const walk = (set: SelectionSetNode | undefined, depth: number): void => {
    // Validation has refused fragment cycles; the depth bound keeps this walk finite regardless.
    if (!set || depth > 64) return;
    for (const selection of set.selections) {
      if (count >= stopAt) return;
      if (selection.kind === Kind.FIELD) {
        count++;
        walk(selection.selectionSet, depth + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, depth + 1);
      } else {
        walk(fragments.get(selection.name.value)?.selectionSet, depth + 1);
      }
    }
  };
  walk(operation.selectionSet, 0);
  return count;
}

/**
 * graphql-jit's errors are GraphQLErrors without an `extensions` object where the original error has none;
 * Apollo Server reads it on every error. The same error as graphql-js makes it, at the same locations.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const copy = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions ?? undefined,
  });
  (copy as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return copy;
}

/**
 * Apollo Server's hook for a custom executor is its gateway option: a fixed schema, never updated, and the
 * executor above.
 */
export function compiledExecution(
  schema: GraphQLSchema,
  onExecute?: (executor: 'compiled' | 'graphql-js') => void,
): ExecutorSource {
  const executor = compiledQueryExecutor(schema, onExecute);
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    load: async () => ({ executor }),
    stop: async () => undefined,
  };
}
