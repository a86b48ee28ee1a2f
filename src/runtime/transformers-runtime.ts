// The only file that imports transformers.js (and through it onnxruntime-node for text models).
import path from 'node:path';
import {
  AutoModelForSequenceClassification,
  AutoTokenizer,
  Tensor,
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
  env.localModelPath = options.localModelPath.endsWith(path.sep)
    ? options.localModelPath
    : options.localModelPath + path.sep;
}

export interface TextClassificationOptions {
  /** Absolute folder path, or a hub id such as `Xenova/finbert`. */
  readonly source: string;
  /** `q8` loads onnx/model_quantized.onnx, `fp32` onnx/model.onnx. */
  readonly dtype: 'q8' | 'fp32' | 'fp16' | 'int8' | 'uint8' | 'q4';
  /** onnxruntime intra-op threads for this model's inferences. */
  readonly intraOpThreads: number;
  /** Most padded tokens (rows x longest row) in one inference; a batch over it is split (default 2,048). */
  readonly tokenBudget?: number;
}

/** Padded tokens per inference: 64 headlines or 16 full 128-token windows. */
export const DEFAULT_TOKEN_BUDGET = 2048;
/** A sub-batch may pad to at most this multiple of its real tokens (a third of its work is padding at most). */
const MAX_PADDING_RATIO = 1.5;

/**
 * A sequence-classification model run through transformers.js. A batch is tokenised once, sorted by
 * token count and split into sub-batches under a token budget (`planSubBatches`), each padded only to
 * its own longest text: short headlines do not pay for a long text's padding, and no inference grows
 * past the budget.
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
      dtype: this.options.dtype,
      device: 'cpu',
      // No spin-waiting between inferences: spinning threads would take the cores the event loop needs
      // to parse the next requests (measured on 2 cores: 280 -> 348 texts/s at 32 clients).
      session_options: {
        intraOpNumThreads: this.options.intraOpThreads,
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      },
    });
    const config = this.model.config as unknown as {
      id2label?: Record<string, string>;
      max_position_embeddings?: number;
    };
    const id2label = config.id2label ?? {};
    this.labels = Object.keys(id2label)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => id2label[k]!);
    if (this.labels.length === 0) throw new Error(`${this.options.source}: config.json has no id2label`);
    const tokenizerMax = Number(this.tokenizer.model_max_length);
    this.maxLength = Math.min(
      Number.isFinite(tokenizerMax) && tokenizerMax > 0 ? tokenizerMax : 512,
      config.max_position_embeddings ?? 512,
    );
  }

  warmupInput(): string {
    return 'Shares rose after the company reported strong quarterly earnings and raised its outlook.';
  }

  async run(texts: readonly string[]): Promise<TextClassification[]> {
    const { tokenizer, model } = this.ready();
    if (texts.length === 0) return [];
    // Untruncated ids: a text's own length says whether it was cut, with no second encoding.
    const encoded = tokenizer(texts as string[], {
      padding: false,
      truncation: false,
      return_tensor: false,
    }) as unknown as Record<string, number[][]>;
    const ids = encoded.input_ids!;
    const lengths = ids.map((row) => Math.min(row.length, this.maxLength));
    const results = new Array<TextClassification>(texts.length);
    for (const group of planSubBatches(lengths, this.options.tokenBudget ?? DEFAULT_TOKEN_BUDGET)) {
      const width = lengths[group[group.length - 1]!]!; // sorted ascending: the last row is the longest
      const feeds: Record<string, Tensor> = {};
      for (const [name, rows] of Object.entries(encoded)) {
        const data = new BigInt64Array(group.length * width); // mask and type ids pad with 0
        if (name === 'input_ids' && tokenizer.pad_token_id) data.fill(BigInt(tokenizer.pad_token_id));
        group.forEach((index, r) => {
          const row = rows[index]!;
          for (let c = 0; c < lengths[index]!; c++) data[r * width + c] = BigInt(row[c]!);
        });
        feeds[name] = new Tensor('int64', data, [group.length, width]);
      }
      const { logits } = await model(feeds);
      const classes = logits.dims[1] as number;
      const out = logits.data as Float32Array;
      group.forEach((index, r) => {
        results[index] = {
          probabilities: softmax(out.subarray(r * classes, (r + 1) * classes)),
          truncated: ids[index]!.length > this.maxLength,
        };
      });
    }
    return results;
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
 * Indices grouped for inference by token count: sorted ascending, a group closes when the next row would
 * take its padded size (rows x longest) over `budget`, or over `MAX_PADDING_RATIO` times its real tokens.
 * Every index appears exactly once.
 * @example planSubBatches([12, 11, 120, 13], 2048) // [[1, 0, 3], [2]]
 */
export function planSubBatches(lengths: readonly number[], budget: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  const groups: number[][] = [];
  let current: number[] = [];
  let real = 0;
  for (const i of order) {
    const next = lengths[i]!;
    const padded = (current.length + 1) * next;
    if (current.length && (padded > budget || padded > MAX_PADDING_RATIO * (real + next))) {
      groups.push(current);
      current = [];
      real = 0;
    }
    current.push(i);
    real += next;
  }
  if (current.length) groups.push(current);
  return groups;
}
