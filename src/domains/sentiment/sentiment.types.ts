import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { ModelRef } from '../../graphql/common.types.js';

export enum SentimentLabel {
  POSITIVE = 'POSITIVE',
  NEGATIVE = 'NEGATIVE',
  NEUTRAL = 'NEUTRAL',
}
registerEnumType(SentimentLabel, { name: 'SentimentLabel', description: 'Tone of a financial text for markets.' });

@ObjectType()
export class LabelScore {
  @Field(() => SentimentLabel)
  label!: SentimentLabel;

  @Field(() => Float, { description: 'Probability of this label, 0..1.' })
  probability!: number;
}

@ObjectType({ description: 'Sentiment of one text.' })
export class SentimentResult {
  @Field(() => String)
  text!: string;

  @Field(() => SentimentLabel)
  label!: SentimentLabel;

  @Field(() => Float, { description: 'Probability of `label`.' })
  score!: number;

  @Field(() => [LabelScore], { description: 'All three labels with their probabilities (they sum to 1).' })
  scores!: LabelScore[];

  @Field(() => Boolean, { description: 'True when the text was longer than the model reads and was cut.' })
  truncated!: boolean;

  @Field(() => ModelRef)
  model!: ModelRef;
}

@ObjectType({ description: 'An article as sent, with its sentiment.' })
export class NewsArticleSentiment {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  headline!: string;

  @Field(() => [String], { description: 'Tickers as sent, upper-cased and de-duplicated.' })
  tickers!: string[];

  @Field(() => GraphQLDateTime, { nullable: true })
  publishedAt?: Date | null;

  /** Read by the field resolver: the text the model classifies. */
  text!: string;
}

@ObjectType({ description: 'Sentiment of the articles that mention one ticker.' })
export class TickerSentiment {
  @Field(() => String)
  ticker!: string;

  @Field(() => Int)
  articleCount!: number;

  @Field(() => Int)
  positive!: number;

  @Field(() => Int)
  negative!: number;

  @Field(() => Int)
  neutral!: number;

  @Field(() => Float, { description: 'Mean of P(positive) - P(negative) over the articles, -1..1.' })
  meanNetSentiment!: number;
}

@ObjectType()
export class NewsSentimentReport {
  @Field(() => [NewsArticleSentiment])
  articles!: NewsArticleSentiment[];

  /** Filled by a field resolver from the same batched predictions as the articles. */
  byTicker?: TickerSentiment[];
}
