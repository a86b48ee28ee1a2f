import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ModelState {
  LOADING = 'LOADING',
  READY = 'READY',
  FAILED = 'FAILED',
  DISPOSED = 'DISPOSED',
}
registerEnumType(ModelState, { name: 'ModelState' });

@ObjectType({ description: "A model's shared dynamic batcher settings." })
export class BatchingSettings {
  @Field(() => Int)
  maxBatchSize!: number;

  @Field(() => Float)
  maxWaitMs!: number;

  @Field(() => Int)
  maxQueue!: number;
}

@ObjectType({ description: 'Counters since the model was loaded.' })
export class ModelStats {
  @Field(() => Int, { description: 'Runtime calls (batches) made.' })
  batches!: number;

  @Field(() => Int, { description: 'Items inferred.' })
  items!: number;

  @Field(() => Int)
  failedItems!: number;

  @Field(() => Int, { description: 'Items waiting in the queue now.' })
  queued!: number;
}

@ObjectType({ description: 'A model served by the gateway.' })
export class ModelInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'sentiment | credit | forecast' })
  task!: string;

  @Field(() => String)
  version!: string;

  @Field(() => String, { description: 'onnx | transformers' })
  runtime!: string;

  @Field(() => Boolean)
  required!: boolean;

  @Field(() => ModelState)
  state!: ModelState;

  @Field(() => GraphQLDateTime, { nullable: true })
  loadedAt?: Date | null;

  @Field(() => String, { nullable: true })
  failureReason?: string | null;

  @Field(() => GraphQLJSONObject, { description: "The model's metrics.json, as written by its training/evaluation run." })
  metrics!: Record<string, unknown>;

  @Field(() => BatchingSettings)
  batching!: BatchingSettings;

  @Field(() => ModelStats)
  stats!: ModelStats;
}
