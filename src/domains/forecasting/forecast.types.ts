import { GraphQLJSONObject } from 'graphql-scalars';
import { Directive, Field, Float, Int, ObjectType } from 'type-graphql';
import { ModelRef } from '../../graphql/common.types.js';

@ObjectType()
export class ForecastInterval {
  @Field(() => Float)
  level!: number;

  @Field(() => Float)
  lower!: number;

  @Field(() => Float)
  upper!: number;
}

@ObjectType({ description: 'The forecast distribution of the price after `step` business days.' })
export class ForecastPoint {
  @Field(() => Int)
  step!: number;

  @Field(() => String, { description: 'The step-th weekday after lastDate (no holiday calendar).' })
  date!: string;

  @Field(() => Float)
  mean!: number;

  @Field(() => Float)
  median!: number;

  @Field(() => [ForecastInterval])
  intervals!: ForecastInterval[];
}

@ObjectType()
export class Volatility {
  @Field(() => Float, { description: 'Standard deviation of the next daily log return.' })
  daily!: number;

  @Field(() => Float, { description: 'daily x sqrt(252).' })
  annualized!: number;

  @Field(() => String)
  model!: string;

  @Field(() => [Float], { description: "Standard deviation of each step's daily log return, steps 1..horizon." })
  perStep!: number[];
}

@ObjectType()
export class ForecastDiagnostics {
  @Field(() => Int, { description: 'Prices used.' })
  sampleSize!: number;

  @Field(() => GraphQLJSONObject, { description: 'Fitted parameters of the method used.' })
  parameters!: Record<string, number>;

  @Field(() => Boolean, { description: 'True when the statistical fallback answered instead of the network.' })
  fallbackUsed!: boolean;

  @Field(() => String, { nullable: true })
  fallbackReason?: string | null;
}

@ObjectType({ description: 'Interval forecasts and volatility of a price series.' })
export class MarketForecast {
  @Field(() => String, { nullable: true })
  symbol?: string | null;

  @Field(() => String)
  lastDate!: string;

  @Field(() => Float)
  lastClose!: number;

  @Field(() => String, { description: 'quantile-network, garch(1,1) or ewma(0.94).' })
  method!: string;

  @Field(() => [ForecastPoint])
  points!: ForecastPoint[];

  @Field(() => Volatility)
  volatility!: Volatility;

  @Field(() => ForecastDiagnostics)
  diagnostics!: ForecastDiagnostics;

  @Field(() => ModelRef)
  model!: ModelRef;
}

@ObjectType()
export class SymbolInfo {
  @Field(() => String)
  symbol!: string;

  @Field(() => String)
  firstDate!: string;

  @Field(() => String)
  lastDate!: string;

  @Field(() => Int)
  rows!: number;
}

@ObjectType()
export class PricePoint {
  @Field(() => String)
  date!: string;

  @Field(() => Float, { nullable: true })
  open?: number | null;

  @Field(() => Float, { nullable: true })
  high?: number | null;

  @Field(() => Float, { nullable: true })
  low?: number | null;

  @Field(() => Float)
  close!: number;

  @Field(() => Float, { nullable: true })
  volume?: number | null;
}

@Directive('@key(fields: "symbol")')
@ObjectType({
  description:
    'A listed instrument, by symbol: its stored prices and its forecast. A federation entity: other subgraphs reference it by symbol.',
})
export class Ticker {
  @Field(() => String)
  symbol!: string;
}
