import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';

@InputType({ description: 'A news article to classify. The model reads the headline, then the start of the body.' })
export class NewsArticleInput {
  @Field(() => ID, { description: 'Caller identifier, unique within the request (1..128 characters).' })
  id!: string;

  @Field(() => String)
  headline!: string;

  @Field(() => String, { nullable: true })
  body?: string | null;

  @Field(() => [String], { nullable: true, description: 'Tickers the article is about (at most 20).' })
  tickers?: string[] | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  publishedAt?: Date | null;
}
