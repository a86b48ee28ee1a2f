import { Directive, Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ModelRef } from '../../graphql/common.types.js';

export enum EducationLevel {
  GRADUATE_SCHOOL = 'GRADUATE_SCHOOL',
  UNIVERSITY = 'UNIVERSITY',
  HIGH_SCHOOL = 'HIGH_SCHOOL',
  OTHER = 'OTHER',
  UNKNOWN = 'UNKNOWN',
}
registerEnumType(EducationLevel, { name: 'EducationLevel' });

export enum CreditGrade {
  A = 'A',
  B = 'B',
  C = 'C',
  D = 'D',
  E = 'E',
  F = 'F',
  G = 'G',
}
registerEnumType(CreditGrade, {
  name: 'CreditGrade',
  description: 'By probability of default: A < 2 %, B < 5 %, C < 10 %, D < 20 %, E < 35 %, F < 50 %, G >= 50 %.',
});

export enum CreditDecision {
  APPROVE = 'APPROVE',
  REVIEW = 'REVIEW',
  DECLINE = 'DECLINE',
}
registerEnumType(CreditDecision, {
  name: 'CreditDecision',
  description: 'By probability of default against the configured thresholds.',
});

@ObjectType({ description: 'A factor that raised the risk of this account.' })
export class CreditReason {
  @Field(() => String, { description: 'Stable reason code, e.g. DELINQUENCY_M1.' })
  code!: string;

  @Field(() => String, { description: 'The model feature behind it.' })
  feature!: string;

  @Field(() => String, { description: 'Plain-English text usable in an adverse-action notice.' })
  description!: string;

  @Field(() => Float, { description: 'Log-odds of default this factor added (> 0).' })
  contribution!: number;
}

@ObjectType({ description: 'Calibrated, explained risk assessment of one card account.' })
export class CreditAssessment {
  @Field(() => String, { nullable: true })
  accountId?: string | null;

  @Field(() => Float, { description: 'Probability of default next month, 0..1.' })
  probabilityOfDefault!: number;

  @Field(() => Int, { description: '600 points at 50:1 good:bad odds, 20 points to double the odds, 300..850.' })
  score!: number;

  @Field(() => CreditGrade)
  grade!: CreditGrade;

  @Field(() => CreditDecision)
  decision!: CreditDecision;

  @Field(() => [CreditReason], { description: 'Up to 4 factors that raised the risk most, largest first.' })
  reasons!: CreditReason[];

  @Field(() => ModelRef)
  model!: ModelRef;
}

@ObjectType({ description: 'A credit decision as recorded when it was made.' })
export class CreditDecisionRecord {
  @Field(() => Int)
  id!: number;

  @Field(() => String, { description: 'ISO time of the decision.' })
  at!: string;

  @Field(() => String)
  requestId!: string;

  @Field(() => String, { description: 'API key name, or anonymous.' })
  caller!: string;

  @Field(() => String, { nullable: true })
  accountId?: string | null;

  @Field(() => String)
  modelName!: string;

  @Field(() => String)
  modelVersion!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'SHA-256 of the model artefact that made the decision; null for decisions recorded before it was kept.',
  })
  modelSha256!: string | null;

  @Field(() => String, { description: 'SHA-256 of the account inputs.' })
  inputsHash!: string;

  @Field(() => Float)
  probabilityOfDefault!: number;

  @Field(() => Int)
  score!: number;

  @Field(() => String)
  grade!: string;

  @Field(() => String)
  decision!: string;

  @Field(() => [String])
  reasonCodes!: string[];
}

@Directive('@key(fields: "accountId")')
@ObjectType({
  description:
    'A card account, by its id: its latest recorded credit decision. A federation entity: other subgraphs reference it by accountId.',
})
export class CreditAccount {
  @Field(() => String)
  accountId!: string;
}
