import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { CreditResolver } from '../domains/credit/index.js';
import { ForecastResolver } from '../domains/forecasting/index.js';
import { ModelsResolver } from '../domains/models/index.js';
import { NewsArticleSentimentResolver, NewsSentimentReportResolver, SentimentResolver } from '../domains/sentiment/index.js';
import { validateInput } from './validate-input.js';

/** The whole schema, code-first. */
export function buildGatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [ModelsResolver, CreditResolver, ForecastResolver, SentimentResolver, NewsSentimentReportResolver, NewsArticleSentimentResolver],
    validateFn: validateInput,
    emitSchemaFile: false,
  });
}

/** The SDL committed as schema/schema.graphql: types sorted, so diffs show real changes only. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
