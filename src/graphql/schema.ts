import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type AuthChecker } from 'type-graphql';
import { CreditAccountResolver, CreditResolver } from '../domains/credit/index.js';
import { CreditAccount } from '../domains/credit/credit.types.js';
import { ForecastResolver, TickerResolver } from '../domains/forecasting/index.js';
import { ModelsResolver } from '../domains/models/index.js';
import { NewsArticleSentimentResolver, NewsSentimentReportResolver, SentimentExplanationResolver, SentimentResolver, TargetedExplanationResolver } from '../domains/sentiment/index.js';
import { validateInput } from './validate-input.js';
import type { GatewayContext } from './context.js';
import type { Scope } from '../platform/api-keys.js';

/** The whole schema, code-first. Without an auth checker every field is open (fine for printing the SDL). */
export function buildGatewaySchema(authChecker: AuthChecker<GatewayContext, Scope> = () => true): Promise<GraphQLSchema> {
  return buildSchema({
    authChecker,
    resolvers: [
      ModelsResolver, CreditResolver, CreditAccountResolver, ForecastResolver, TickerResolver,
      SentimentResolver, NewsSentimentReportResolver, NewsArticleSentimentResolver, SentimentExplanationResolver, TargetedExplanationResolver,
    ],
    // Reached only through federation's _entities (no query returns it here).
    orphanedTypes: [CreditAccount],
    validateFn: validateInput,
    emitSchemaFile: false,
  });
}

/** The SDL committed as schema/schema.graphql: types sorted, so diffs show real changes only. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
