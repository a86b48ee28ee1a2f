/**
 * The one interface every model runtime adapter implements. `run` receives a whole batch and returns
 * one entry per input, in order: a result, or an Error for an input the runtime could not handle
 * (the batcher rejects only that caller). Throwing fails the whole batch.
 */
export interface ModelRuntime<I, O> {
  load(): Promise<void>;
  run(inputs: readonly I[]): Promise<Array<O | Error>>;
  /** An input that exercises the whole graph; used to warm the model up before it is declared ready. */
  warmupInput(): I;
  dispose(): Promise<void>;
  /** Batches it can run at once (its model workers); 1 when absent. */
  readonly parallelism?: number;
  /** The version a remote server reported serving once loaded; local runtimes serve their manifest's version. */
  readonly servedVersion?: string;
}

/** Lifecycle of one loaded model version. */
export type ModelPhase =
  | { phase: 'loading'; since: Date }
  | { phase: 'ready'; loadedAt: Date; warmupMs: number }
  | { phase: 'failed'; at: Date; reason: string }
  | { phase: 'disposed'; at: Date };

export type ModelRuntimeKind = 'onnx' | 'transformers' | 'remote';

/** Describes a model's state in a sentence, for logs and readiness bodies. */
export function describePhase(state: ModelPhase): string {
  switch (state.phase) {
    case 'loading':
      return `loading since ${state.since.toISOString()}`;
    case 'ready':
      return `ready since ${state.loadedAt.toISOString()}`;
    case 'failed':
      return `failed: ${state.reason}`;
    case 'disposed':
      return 'disposed';
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}
