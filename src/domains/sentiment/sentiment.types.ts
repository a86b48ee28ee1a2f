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

@ObjectType({ description: "One word's pull on the explained label." })
export class WordWeight {
  @Field(() => String, { description: 'The word as written in the text (whitespace-separated).' })
  word!: string;

  @Field(() => Int, { description: '0-based index of the word among the words of the text.' })
  position!: number;

  @Field(() => Float, {
    description:
      'P(label | text) - P(label | text without this word), -1..1. Positive: the word pushed towards the label; negative: it pulled away.',
  })
  weight!: number;
}

@ObjectType({
  description:
    'Why the model gave its label, by occlusion: each word is left out in turn, and the change in the ' +
    "label's probability is that word's weight. All variants of a text go to the model in one batch. It shows " +
    'what the model relies on, not what is true of the text: words acting together (a negation and its verb) ' +
    'are each weighed alone.',
})
export class SentimentExplanation {
  @Field(() => SentimentLabel, { description: 'The label explained: the one the result carries.' })
  label!: SentimentLabel;

  @Field(() => [WordWeight], { description: 'The words with the largest |weight|, strongest first.' })
  words!: WordWeight[];

  @Field(() => Int, { description: 'Words left out in turn (at most 48).' })
  wordsConsidered!: number;

  @Field(() => Boolean, {
    description: 'True when the text had more than 48 words: words after the 48th were not weighed.',
  })
  truncated!: boolean;

  @Field(() => ModelRef)
  model!: ModelRef;
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

@ObjectType({
  description:
    'Sentiment of one text toward one entity it names: label, score and scores are how an investor in the target would read the text.',
})
export class TargetedSentimentResult extends SentimentResult {
  @Field(() => String)
  target!: string;

  /** The text as the entity model read it (target marked): the key of its inference and explanation. */
  marked!: string;
}

@ObjectType({ description: 'The sentiment of an article toward one entity it names.' })
export class ArticleEntitySentiment {
  @Field(() => String)
  ticker!: string;

  @Field(() => String, { description: 'The name found in the text (the first of the names sent that occurs).' })
  name!: string;

  @Field(() => SentimentLabel)
  label!: SentimentLabel;

  @Field(() => Float, { description: 'Probability of `label`.' })
  score!: number;

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

  /** The entities sent that the text names, each with its marked text (read by the entities field). */
  named!: ReadonlyArray<{ ticker: string; name: string; marked: string }>;
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
