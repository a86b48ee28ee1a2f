import { ArrayMaxSize, ArrayMinSize, IsInt, IsOptional, Max, MaxLength, Min } from 'class-validator';
import { Field, Float, InputType, Int } from 'type-graphql';
import { EducationLevel } from './credit.types.js';

const MONTHS = 6;
const MAX_AMOUNT = 1e10;

@InputType({ description: 'A card account: limit, holder profile and the last six months, most recent first.' })
export class CardAccountInput {
  @Field(() => String, { nullable: true, description: 'Echoed back; at most 128 characters.' })
  @IsOptional()
  @MaxLength(128)
  accountId?: string | null;

  // At least one currency unit: balances are divided by the limit, and a near-zero limit overflows them.
  @Field(() => Float, { description: 'Credit limit, 1..1e10 (currency units).' })
  @Min(1)
  @Max(MAX_AMOUNT)
  creditLimit!: number;

  @Field(() => Int, { description: 'Age of the holder in years, 18..100.' })
  @Min(18)
  @Max(100)
  age!: number;

  @Field(() => EducationLevel)
  education!: EducationLevel;

  @Field(() => [Int], {
    description:
      'Exactly 6 monthly statuses, most recent first: -2 no consumption, -1 paid in full, 0 revolving credit, 1..9 months of delay.',
  })
  @ArrayMinSize(MONTHS)
  @ArrayMaxSize(MONTHS)
  @IsInt({ each: true })
  @Min(-2, { each: true })
  @Max(9, { each: true })
  repaymentStatus!: number[];

  @Field(() => [Float], {
    description: 'Exactly 6 statement balances, most recent first (may be negative: a credit balance).',
  })
  @ArrayMinSize(MONTHS)
  @ArrayMaxSize(MONTHS)
  @Min(-MAX_AMOUNT, { each: true })
  @Max(MAX_AMOUNT, { each: true })
  billAmounts!: number[];

  @Field(() => [Float], { description: 'Exactly 6 amounts paid, >= 0, most recent first.' })
  @ArrayMinSize(MONTHS)
  @ArrayMaxSize(MONTHS)
  @Min(0, { each: true })
  @Max(MAX_AMOUNT, { each: true })
  paymentAmounts!: number[];
}
