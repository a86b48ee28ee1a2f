// The only file that imports transformers.js (and through it onnxruntime-node for text models).
import path from 'node:path';
import {
  AutoModelForSequenceClassification,
  AutoTokenizer,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import type { ModelRuntime } from './model-runtime.js';

/** Class probabilities in the model's own label order (`labels`), and whether the text was cut. */
export interface TextClassification {
  readonly probabilities: readonly number[];
  readonly truncated: boolean;
}

let configured = false;

/**
 * Sets transformers.js' process-wide `env` once, at start: offline unless remote models are allowed.
 * Local models are then named by absolute folder path (transformers.js reads a source that is not a
 * hub id as a path), hub ids (`owner/name`) resolve under `localModelPath` first, then the hub.
 */
export function configureTransformers(options: { allowRemoteModels: boolean; localModelPath: string }): void {
  if (configured) return;
  configured = true;
  env.allowRemoteModels = options.allowRemoteModels;
  env.allowLocalModels = true;
  env.localModelPath = options.localModelPath.endsWith(path.sep) ? options.localModelPath : options.localModelPath + path.sep;
}

export interface TextClassificationOptions {
  /** Absolute folder path, or a hub id such as `Xenova/finbert`. */
  readonly source: string;
  /** `q8` loads onnx/model_quantized.onnx, `fp32` onnx/model.onnx. */
  readonly dtype: 'q8' | 'fp32' | 'fp16' | 'int8' | 'uint8' | 'q4';
  /** onnxruntime intra-op threads for this model's inferences. */
  readonly intraOpThreads: number;
}

/**
 * A sequence-classification model run through transformers.js. A batch is tokenised in one call and
 * padded to its longest text; texts of very different lengths are split into groups first, so that
 * one long text does not make every short one pay for its padding.
 */
export class TextClassificationRuntime implements ModelRuntime<string, TextClassification> {
  private tokenizer: PreTrainedTokenizer | undefined;
  private model: PreTrainedModel | undefined;
  private maxLength = 512;
  /** Label names as the model's config names them (id2label), in output order. */
  labels: readonly string[] = [];

  constructor(private readonly options: TextClassificationOptions) {}

  async load(): Promise<void> {
    const id = this.options.source;
    this.tokenizer = await AutoTokenizer.from_pretrained(id);
    this.model = await AutoModelForSequenceClassification.from_pretrained(id, {
      dtype: this.options.dtype, device: 'cpu',
      // No spin-waiting between inferences: spinning threads would take the cores the event loop needs
      // to parse the next requests (measured on 2 cores: 280 -> 348 texts/s at 32 clients).
      session_options: { intraOpNumThreads: this.options.intraOpThreads, extra: { session: { intra_op: { allow_spinning: '0' } } } },
    });
    const config = this.model.config as unknown as { id2label?: Record<string, string>; max_position_embeddings?: number };
    const id2label = config.id2label ?? {};
    this.labels = Object.keys(id2label).sort((a, b) => Number(a) - Number(b)).map((k) => id2label[k]!);
    if (this.labels.length === 0) throw new Error(`${this.options.source}: config.json has no id2label`);
    const tokenizerMax = Number(this.tokenizer.model_max_length);
    this.maxLength = Math.min(Number.isFinite(tokenizerMax) && tokenizerMax > 0 ? tokenizerMax : 512,
      config.max_position_embeddings ?? 512);
  }

  warmupInput(): string {
    return 'Shares rose after the company reported strong quarterly earnings and raised its outlook.';
  }

  async run(texts: readonly string[]): Promise<TextClassification[]> {
    const results = new Array<TextClassification>(texts.length);
    for (const group of groupByLength(texts)) {
      const out = await this.classify(group.map((i) => texts[i]!));
      group.forEach((index, j) => (results[index] = out[j]!));
    }
    return results;
  }

  private async classify(texts: string[]): Promise<TextClassification[]> {
    const { tokenizer, model } = this.ready();
    const inputs = tokenizer(texts, { padding: true, truncation: true, max_length: this.maxLength });
    const { logits } = await model(inputs);
    const [rows, classes] = logits.dims as [number, number];
    const data = logits.data as Float32Array;
    const mask = inputs.attention_mask.data as BigInt64Array;
    const width = inputs.attention_mask.dims[1] as number;
    return Array.from({ length: rows }, (_, r) => {
      // A row that fills the whole window may have been cut: only then pay for an exact check.
      let used = 0;
      for (let c = 0; c < width; c++) used += Number(mask[r * width + c]);
      const truncated = used >= this.maxLength && tokenizer.encode(texts[r]!).length > this.maxLength;
      return { probabilities: softmax(data.subarray(r * classes, (r + 1) * classes)), truncated };
    });
  }

  async dispose(): Promise<void> {
    await this.model?.dispose();
    this.model = undefined;
  }

  private ready(): { tokenizer: PreTrainedTokenizer; model: PreTrainedModel } {
    if (!this.tokenizer || !this.model) throw new Error(`${this.options.source} is not loaded`);
    return { tokenizer: this.tokenizer, model: this.model };
  }
}

function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/**
 * Splits indices into groups of similar text length (characters approximate tokens): sorted by
 * length, a new group starts when the next text is over twice as long as the group's shortest and
 * the group already holds 8 texts.
 * @example groupByLength(['a', 'bb', 'a'.repeat(100)]) // [[0, 1, 2]] (fewer than 8 texts: one group)
 */
export function groupByLength(texts: readonly string[], minGroup = 8): number[][] {
  const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  const groups: number[][] = [];
  let current: number[] = [];
  for (const i of order) {
    const shortest = current.length ? texts[current[0]!]!.length : 0;
    if (current.length >= minGroup && texts[i]!.length > 2 * Math.max(shortest, 16)) {
      groups.push(current);
      current = [];
    }
    current.push(i);
  }
  if (current.length) groups.push(current);
  return groups;
}
