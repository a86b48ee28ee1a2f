import { IsOptional } from 'class-validator';
import { Field, Float, InputType, Int } from 'type-graphql';
import { IsIntIn, IsLevels, IsPriceSeries, IsSymbol } from '../../graphql/input-rules.js';
import { FORECAST_LIMITS } from './forecast.service.js';

// Its rules (market-rules.ts' price-row rule) are checked over the whole series by ForecastInput.series.
@InputType({ description: 'One daily price. Dates are YYYY-MM-DD and must strictly increase along the series.' })
export class PricePointInput {
  @Field(() => String)
  date!: string;

  @Field(() => Float, { description: 'Closing price, > 0.' })
  close!: number;

  @Field(() => Float, { nullable: true })
  open?: number | null;

  @Field(() => Float, { nullable: true })
  high?: number | null;

  @Field(() => Float, { nullable: true })
  low?: number | null;

  @Field(() => Float, { nullable: true })
  volume?: number | null;
}

@InputType({ description: 'Exactly one of `series` (60..10,000 prices) or `symbol` (from the price store).' })
export class ForecastInput {
  @Field(() => [PricePointInput], { nullable: true })
  @IsOptional()
  @IsPriceSeries(FORECAST_LIMITS.minPoints, FORECAST_LIMITS.maxPoints)
  series?: PricePointInput[] | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsSymbol()
  symbol?: string | null;

  @Field(() => Int, { nullable: true, defaultValue: 5, description: 'Steps (business days) ahead, 1..60.' })
  @IsOptional()
  @IsIntIn(1, FORECAST_LIMITS.maxHorizon)
  horizon?: number | null;

  @Field(() => [Float], {
    nullable: true,
    defaultValue: [0.8, 0.95],
    description: 'Interval levels, each in (0, 1); at most 10.',
  })
  @IsOptional()
  @IsLevels(FORECAST_LIMITS.maxLevels)
  levels?: number[] | null;
}
