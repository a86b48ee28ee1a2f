import { IsOptional, ValidateNested } from 'class-validator';
import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { HasItems, IsName, IsNameList, IsNonBlank, IsSymbol, IsSymbolList } from '../../graphql/input-rules.js';
import { NEWS_LIMITS, TARGET_LIMITS } from './sentiment.service.js';

@InputType({ description: 'A company an article may name, with the names it may appear under.' })
export class ArticleEntityInput {
  @Field(() => String, { description: 'The ticker the entity is summarised under in byTicker.' })
  @IsSymbol()
  ticker!: string;

  @Field(() => [String], {
    description:
      'Names as they may appear in the text (1..10, each 1..200 characters); the first that occurs is the one marked.',
  })
  @IsNameList(1, NEWS_LIMITS.maxNamesPerEntity, TARGET_LIMITS.maxLength)
  names!: string[];
}

@InputType({ description: 'A news article to classify. The model reads the headline, then the start of the body.' })
export class NewsArticleInput {
  @Field(() => ID, { description: 'Caller identifier, unique within the request (1..128 characters).' })
  @IsName(NEWS_LIMITS.maxIdLength)
  id!: string;

  @Field(() => String)
  @IsNonBlank()
  headline!: string;

  @Field(() => String, { nullable: true })
  body?: string | null;

  @Field(() => [String], { nullable: true, description: 'Tickers the article is about (at most 20).' })
  @IsOptional()
  @IsSymbolList(NEWS_LIMITS.maxTickersPerArticle)
  tickers?: string[] | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  publishedAt?: Date | null;

  @Field(() => [ArticleEntityInput], {
    nullable: true,
    description:
      "Companies the article may name (at most 5): each one named in the text gets its own sentiment, and byTicker counts it instead of the article's.",
  })
  @IsOptional()
  @HasItems(0, NEWS_LIMITS.maxEntitiesPerArticle)
  @ValidateNested({ each: true })
  entities?: ArticleEntityInput[] | null;
}

@InputType({ description: 'A text and the company (or other entity) whose sentiment in it is asked for.' })
export class TargetedTextInput {
  @Field(() => String, { description: 'The text, as for sentiment (at most 2,000 characters by default).' })
  @IsNonBlank()
  text!: string;

  @Field(() => String, {
    description: 'The entity as it appears in the text (matched without regard to case), 1..200 characters.',
  })
  @IsName(TARGET_LIMITS.maxLength)
  target!: string;
}
