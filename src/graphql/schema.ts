import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type AuthChecker, type NonEmptyArray } from 'type-graphql';
import { validateInput } from './validate-input.js';
import type { GatewayContext } from './context.js';
import type { DomainModule } from './domain-module.js';
import type { Scope } from '../platform/api-keys.js';

/** The whole schema, code-first, from the domains' resolvers. Without an auth checker every field is open (fine for printing the SDL). */
export function buildGatewaySchema(
  domains: ReadonlyArray<DomainModule<unknown, unknown>>,
  authChecker: AuthChecker<GatewayContext, Scope> = () => true,
): Promise<GraphQLSchema> {
  const resolvers = domains.flatMap((d) => d.resolvers);
  if (resolvers.length === 0) throw new Error('no domain brings a resolver');
  return buildSchema({
    authChecker,
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    resolvers: resolvers as NonEmptyArray<Function>,
    orphanedTypes: domains.flatMap((d) => d.orphanedTypes ?? []),
    validateFn: validateInput,
    emitSchemaFile: false,
  });
}

/** The SDL committed as schema/schema.graphql: types sorted, so diffs show real changes only. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
