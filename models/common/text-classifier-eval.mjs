// What the text classifiers' evaluation runs share (evaluate_sentiment.mjs, evaluate_entity.mjs): loading a model
// folder as the gateway does (transformers.js, offline), batched probabilities, drift-baseline bins, template fill.
import path from 'node:path';
import { env, AutoTokenizer, AutoModelForSequenceClassification } from '@huggingface/transformers';

env.allowRemoteModels = false;

/** A model folder's tokenizer and model, and how long they took to load. */
export async function loadClassifier(dir, dtype = 'q8') {
  env.localModelPath = path.dirname(dir) + path.sep;
  const name = path.basename(dir);
  const started = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForSequenceClassification.from_pretrained(name, { dtype, device: 'cpu' });
  return { tokenizer, model, loadMs: Math.round(performance.now() - started) };
}

/** Softmax probabilities per text, in batches of 64. */
export async function probabilities({ tokenizer, model }, texts) {
  const out = [];
  for (let i = 0; i < texts.length; i += 64) {
    const inputs = tokenizer(texts.slice(i, i + 64), { padding: true, truncation: true });
    const { logits } = await model(inputs);
    const [rows, cols] = logits.dims;
    for (let r = 0; r < rows; r++) {
      const row = Array.from(logits.data.slice(r * cols, (r + 1) * cols));
      const exps = row.map((x) => Math.exp(x - Math.max(...row)));
      out.push(exps.map((e) => e / exps.reduce((a, b) => a + b, 0)));
    }
  }
  return out;
}

export function argmax(row) {
  return row.indexOf(Math.max(...row));
}

/** Decile bins like numpy's quantile (linear) + unique; value v falls in bin searchsorted(edges, v, 'right'). */
export function profile(name, values) {
  const sorted = [...values].sort((a, b) => a - b);
  const quantile = (q) => {
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
  };
  const edges = [...new Set(Array.from({ length: 9 }, (_, k) => quantile((k + 1) / 10)))];
  const counts = new Array(edges.length + 1).fill(0);
  for (const v of values) counts[edges.filter((e) => e <= v).length]++;
  return { name, edges, expected: counts.map((c) => Math.round((c / values.length) * 1e6) / 1e6) };
}

/** Nested keys as dotted names, for {{a.b.c}} placeholders in a model card template. */
export function flatten(obj, prefix = '') {
  return Object.entries(obj).reduce(
    (acc, [k, v]) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? { ...acc, ...flatten(v, `${prefix}${k}.`) }
        : { ...acc, [`${prefix}${k}`]: v },
    {},
  );
}
