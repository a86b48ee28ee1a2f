import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import {
  GraphQLError,
  isObjectType,
  parse,
  type GraphQLFieldConfig,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { createResolversMap } from 'type-graphql';
import { COST_DIRECTIVE_IMPORTS, withCostDirectives } from './cost-directives.js';

/** Federation 2 features this subgraph uses: entities, and the demand-control directives (2.9). */
const LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ${JSON.stringify(['@key', ...COST_DIRECTIVE_IMPORTS])})`;

/**
 * The type-graphql schema as an Apollo Federation 2 subgraph (`_service`, `_entities`, `@key` entities
 * Ticker by symbol and CreditAccount by accountId), with the same resolvers, auth and validation.
 * buildSubgraphSchema rebuilds the schema from its SDL, which loses each field's `complexity`
 * extension: they are carried over, so query costs and rate limits stay what they were. The same costs are
 * stated in the SDL as `@cost`/`@listSize` (cost-directives.ts) for routers that enforce demand control.
 */
export function buildSubgraph(schema: GraphQLSchema): GraphQLSchema {
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  // An entity reference ({ __typename, symbol }) is already all a Ticker or CreditAccount needs.
  for (const entity of ['Ticker', 'CreditAccount'])
    resolvers[entity] = { ...resolvers[entity], __resolveReference: (reference: unknown) => reference };
  const subgraph = buildSubgraphSchema({
    typeDefs: withCostDirectives(parse(`${LINK}\n${printSchemaWithDirectives(schema)}`), schema),
    resolvers: resolvers as never,
  });
  for (const type of Object.values(schema.getTypeMap())) {
    const target = subgraph.getType(type.name);
    if (!isObjectType(type) || !isObjectType(target)) continue;
    for (const [name, field] of Object.entries(type.getFields())) {
      const complexity = field.extensions?.complexity;
      const copy = target.getFields()[name] as
        | { extensions: GraphQLFieldConfig<unknown, unknown>['extensions'] }
        | undefined;
      if (complexity !== undefined && copy) copy.extensions = { ...copy.extensions, complexity };
    }
  }
  // A router resolves N entities in one _entities call: it costs what the same N fields would cost sent directly
  // (each representation one root field plus its selection), or entities would cost 1/N through a router.
  const entities = subgraph.getQueryType()?.getFields()._entities as
    | { extensions: GraphQLFieldConfig<unknown, unknown>['extensions'] }
    | undefined;
  if (entities) {
    entities.extensions = {
      ...entities.extensions,
      complexity: ({ args, childComplexity }: { args: Record<string, unknown>; childComplexity: number }) =>
        (Array.isArray(args.representations) ? args.representations.length : 1) * (1 + childComplexity),
    };
  }
  return subgraph;
}

/**
 * With introspection off, `_service { sdl }` would still hand out the whole schema: this validation rule
 * refuses it too (routers compose from a supergraph file, so they do not need it at run time).
 */
export const NoServiceSdlRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '_service' && context.getParentType()?.name === 'Query') {
      context.reportError(
        new GraphQLError('the subgraph SDL (_service) is not served while INTROSPECTION=false', { nodes: node }),
      );
    }
  },
});

/** The subgraph SDL a federation router composes (with the federation directives, without _service/_entities). */
export function printSubgraph(subgraph: GraphQLSchema): string {
  return `${printSubgraphSchema(subgraph).trim()}\n`;
}
