// The only file that imports onnxruntime-node directly (transformers.js brings its own use of it).
import * as ort from 'onnxruntime-node';
import type { ModelRuntime } from './model-runtime.js';

/** Every named output of the graph for one input row, flattened. */
export type TabularOutputs = Readonly<Record<string, Float32Array>>;

export interface TabularOnnxOptions {
  readonly file: string;
  readonly inputName: string;
  /** Features per row. */
  readonly width: number;
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
    this.session = await ort.InferenceSession.create(this.options.file, { graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } });
  }

  warmupInput(): Float32Array {
    return new Float32Array(this.options.width).fill(1);
  }

  async run(rows: readonly Float32Array[]): Promise<Array<TabularOutputs | Error>> {
    if (!this.session) throw new Error(`${this.options.file} is not loaded`);
    const { width, inputName } = this.options;
    const results: Array<TabularOutputs | Error> = new Array(rows.length);
    const valid: number[] = [];
    rows.forEach((row, i) => {
      if (row.length !== width) results[i] = new Error(`expected ${width} features, got ${row.length}`);
      else if (!row.every(Number.isFinite)) results[i] = new Error('features must be finite numbers');
      else valid.push(i);
    });
    if (valid.length === 0) return results;
    const data = new Float32Array(valid.length * width);
    valid.forEach((i, r) => data.set(rows[i]!, r * width));
    const outputs = await this.session.run({ [inputName]: new ort.Tensor('float32', data, [valid.length, width]) });
    valid.forEach((i, r) => {
      results[i] = Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => {
        const per = (tensor.data as Float32Array).length / valid.length;
        // Views, not copies: one buffer per output for the whole batch instead of one allocation per row.
        return [name, (tensor.data as Float32Array).subarray(r * per, (r + 1) * per)];
      }));
    });
    return results;
  }

  async dispose(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}
