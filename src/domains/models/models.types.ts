import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum DriftStatus {
  INSUFFICIENT_DATA = 'INSUFFICIENT_DATA',
  STABLE = 'STABLE',
  WATCH = 'WATCH',
  DRIFT = 'DRIFT',
}
registerEnumType(DriftStatus, {
  name: 'DriftStatus',
  description:
    'By Population Stability Index: STABLE < 0.1 <= WATCH < 0.25 <= DRIFT; INSUFFICIENT_DATA while the window holds fewer than DRIFT_MIN_OBSERVATIONS observations (a PSI on a few is noise).',
});

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

  @Field(() => Float, {
    nullable: true,
    description: 'Longest an item waits for its batch before it is refused as OVERLOADED.',
  })
  maxQueueMs!: number | null;
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

  @Field(() => String, {
    description: 'The active version: for a remote model, the version its server reports serving.',
  })
  version!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "SHA-256 of the active version's artefact(s) (the model file, and for a transformer its config and tokenizer files); null for a remote model or before it has loaded.",
  })
  sha256!: string | null;

  @Field(() => [String], { description: 'Versions the model folder offers (the top-level manifest, then versions/*).' })
  versions!: string[];

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

  @Field(() => GraphQLJSONObject, {
    description: "The model's metrics.json, as written by its training/evaluation run.",
  })
  metrics!: Record<string, unknown>;

  @Field(() => BatchingSettings)
  batching!: BatchingSettings;

  @Field(() => ModelStats)
  stats!: ModelStats;

  @Field(() => String, {
    nullable: true,
    description: 'The version running in shadow (setShadowModelVersion), if any.',
  })
  shadowVersion!: string | null;
}

@ObjectType({ description: 'Population Stability Index of one monitored quantity against its training baseline.' })
export class QuantityDrift {
  @Field(() => String)
  name!: string;

  @Field(() => Float)
  psi!: number;

  @Field(() => Int, { description: 'Observations the PSI was computed from.' })
  observations!: number;

  @Field(() => DriftStatus)
  status!: DriftStatus;
}

@ObjectType({
  description:
    'How a shadow version answers the same traffic as the active one, since it started. For credit: agreement is the same ' +
    'decision, the difference is that of the probabilities of default. Shadow answers never reach a caller.',
})
export class ShadowComparison {
  @Field(() => String)
  version!: string;

  @Field(() => GraphQLDateTime)
  since!: Date;

  @Field(() => Int, { description: 'Inputs both versions answered.' })
  compared!: number;

  @Field(() => Int, {
    description: 'Inputs the shadow failed or had no queue room for (it never slows the active version).',
  })
  failed!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Share of compared inputs with the same outcome; null before the first.',
  })
  agreementRate!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Mean absolute difference of the compared quantity; null before the first.',
  })
  meanAbsoluteDifference!: number | null;
}

@ObjectType({ description: "A model's live traffic (rolling window) compared with its training baseline." })
export class ModelMonitoring {
  @Field(() => String)
  model!: string;

  @Field(() => Int, { description: 'Most recent observations compared.' })
  windowSize!: number;

  @Field(() => Int, { description: 'Observations since start (the window holds the latest windowSize).' })
  observations!: number;

  @Field(() => Int, {
    description:
      'Observations the window must hold before a status other than INSUFFICIENT_DATA (DRIFT_MIN_OBSERVATIONS).',
  })
  minObservations!: number;

  @Field(() => DriftStatus, { description: 'The worst status over the features and the output.' })
  status!: DriftStatus;

  @Field(() => [QuantityDrift])
  features!: QuantityDrift[];

  @Field(() => QuantityDrift)
  output!: QuantityDrift;

  @Field(() => ShadowComparison, {
    nullable: true,
    description: 'The shadow version against the active one; null without a shadow.',
  })
  shadow!: ShadowComparison | null;
}
