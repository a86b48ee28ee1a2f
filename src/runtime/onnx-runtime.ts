// The only file that imports onnxruntime-node directly (transformers.js brings its own use of it).
import * as ort from 'onnxruntime-node';
import type { ModelRuntime } from './model-runtime.js';
import { runRows, type TabularOutputs } from './tabular-rows.js';

export type { TabularOutputs } from './tabular-rows.js';

export interface TabularOnnxOptions {
  readonly file: string;
  readonly inputName: string;
  /** Features per row. */
  readonly width: number;
  /** onnxruntime intra-op threads (default: onnxruntime's, one per physical core). */
  readonly intraOpThreads?: number | undefined;
}

/**
 * A model over fixed-width float rows: one [N, width] tensor in, each output split back per row.
 * A row with a non-finite value is answered with its own Error and left out of the batch.
 */
export class TabularOnnxRuntime implements ModelRuntime<Float32Array, TabularOutputs> {
  private session: ort.InferenceSession | undefined;

  constructor(private readonly options: TabularOnnxOptions) {}

  async load(): Promise<void> {
    // Without spinning: onnxruntime's pool threads otherwise spin-wait after each batch, and on a small
    // machine that takes the cores the event loop needs between batches. Measured with 1,000-account
    // credit requests on 2 cores: other threads' CPU per request 69-80 -> 38-40 ms, accounts/s +10-12 %.
    this.session = await ort.InferenceSession.create(this.options.file, {
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
      // The binding refuses the key with no number in it.
      ...(this.options.intraOpThreads === undefined ? {} : { intraOpNumThreads: this.options.intraOpThreads }),
    });
  }

  warmupInput(): Float32Array {
    return new Float32Array(this.options.width).fill(1);
  }

  async run(rows: readonly Float32Array[]): Promise<Array<TabularOutputs | Error>> {
    return runRows(rows, this.options.width, (data, count) => this.runPacked(data, count));
  }

  /** Runs `count` rows packed in `data`; each output whole, for the batch. */
  async runPacked(data: Float32Array, count: number): Promise<Record<string, Float32Array>> {
    if (!this.session) throw new Error(`${this.options.file} is not loaded`);
    const { width, inputName } = this.options;
    if (data.length !== count * width)
      throw new Error(`expected ${count * width} values for ${count} rows, got ${data.length}`);
    const outputs = await this.session.run({ [inputName]: new ort.Tensor('float32', data, [count, width]) });
    return Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  }

  async dispose(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}
