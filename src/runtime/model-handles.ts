import type { SubmitAs } from './dynamic-batcher.js';
import type { ModelIdentity } from './model-identity.js';
import type { ShadowOutcome } from './shadow-comparison.js';
import type { TaskIO } from './tasks.js';

/** What a domain service sees of a model: its identity and a batched inference entry point. */
export interface InferenceModel<I, O> {
  readonly name: string;
  readonly version: string;
  /** Name, version and artefact hash of the version this handle's batches run on: what results must carry. */
  readonly identity: ModelIdentity;
  /** The folder of this version's artifacts (its features.json, for instance). */
  readonly dir: string;
  /** Output label names, for classifiers (from the model's own config). */
  readonly labels: readonly string[];
  /** `caller`: an API key or client address (the batcher serves callers in turn), or the request's whole Submission (priority, deadline, abort signal). */
  infer(input: I, caller?: SubmitAs): Promise<O>;
  /** One entry per input: its result or its own Error. Suits DataLoader batch functions. */
  inferMany(inputs: readonly I[], caller?: SubmitAs): Promise<Array<O | Error>>;
  /** Feeds drift monitoring: one inference's features (in baseline.json order) and monitored output. */
  observe(features: ArrayLike<number>, output: number): void;
  /** The version running in shadow beside this one, when there is one. */
  readonly shadow?: ShadowModel<I, O>;
}

/**
 * A shadow version: it gets a copy of the traffic, and the service reports how its answers compare;
 * they never reach a caller.
 */
export interface ShadowModel<I, O> {
  readonly version: string;
  readonly dir: string;
  inferMany(inputs: readonly I[]): Promise<Array<O | Error>>;
  record(outcomes: ReadonlyArray<ShadowOutcome | Error>): void;
}

/** The handle on a model of a text task (its texts in, class probabilities out). */
export type TextModel = InferenceModel<TaskIO['text']['input'], TaskIO['text']['output']>;

/** The handle on a model of a rows task (fixed-width FP32 rows in, named output tensors out). */
export type RowsModel = InferenceModel<TaskIO['rows']['input'], TaskIO['rows']['output']>;
