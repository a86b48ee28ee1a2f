#!/usr/bin/env node
// Scores the shipped model exactly as the gateway runs it: transformers.js tokenisation and the int8
// ONNX file on onnxruntime-node. Also scores the fp32 export (when the training run left it in
// train/.work) and the hand-written news headlines, then writes metrics.json and MODEL_CARD.md.
//
// Usage: node models/sentiment-bert/train/evaluate_sentiment.mjs [--data ../shared/data]
import { readFileSync, writeFileSync, existsSync, mkdtempSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { env, AutoTokenizer, AutoModelForSequenceClassification } from '@huggingface/transformers';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = path.resolve(here, '..');
const repo = path.resolve(modelDir, '..', '..');
const argIndex = process.argv.indexOf('--data');
const dataDir = argIndex > 0 ? process.argv[argIndex + 1] : path.join(repo, '..', 'shared', 'data');
const LABELS = ['negative', 'neutral', 'positive'];
const SOURCE_LABEL = { bearish: 0, neutral: 1, bullish: 2 };

env.allowRemoteModels = false;

async function load(dir, dtype) {
  env.localModelPath = path.dirname(dir) + path.sep;
  const name = path.basename(dir);
  const started = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  const model = await AutoModelForSequenceClassification.from_pretrained(name, { dtype, device: 'cpu' });
  return { tokenizer, model, loadMs: Math.round(performance.now() - started) };
}

async function predict(loaded, texts) {
  return (await probabilities(loaded, texts)).map((row) => row.indexOf(Math.max(...row)));
}

async function probabilities({ tokenizer, model }, texts) {
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

function score(truth, pred) {
  const f1s = LABELS.map((_, k) => {
    const tp = pred.filter((p, i) => p === k && truth[i] === k).length;
    const fp = pred.filter((p, i) => p === k && truth[i] !== k).length;
    const fn = pred.filter((p, i) => p !== k && truth[i] === k).length;
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  });
  const accuracy = pred.filter((p, i) => p === truth[i]).length / truth.length;
  const round = (x) => Math.round(x * 10000) / 10000;
  return { accuracy: round(accuracy), macro_f1: round(f1s.reduce((a, b) => a + b, 0) / f1s.length),
    f1_by_label: Object.fromEntries(LABELS.map((l, k) => [l, round(f1s[k])])) };
}

const valid = parse(readFileSync(path.join(dataDir, 'sentiment', 'valid.csv')), { columns: true });
const texts = valid.map((r) => r.text);
const truth = valid.map((r) => SOURCE_LABEL[r.label]);

const quantized = await load(modelDir, 'q8');
const validProbabilities = await probabilities(quantized, texts);
const q8 = score(truth, validProbabilities.map((row) => row.indexOf(Math.max(...row))));

// Drift baseline: live word counts and net sentiment are compared with these (models/common/baseline.py bins alike).
const wordCount = (t) => t.trim().split(/\s+/).length;
writeFileSync(path.join(modelDir, 'baseline.json'), JSON.stringify({
  source: 'sentiment/valid.csv through the shipped int8 model',
  rows: texts.length,
  features: [profile('word_count', texts.map(wordCount))],
  output: profile('net_sentiment', validProbabilities.map((p) => p[2] - p[0])),
}, null, 1) + '\n');

let fp32 = null;
const fp32File = path.join(here, '.work', 'model.onnx');
if (existsSync(fp32File)) {
  // A throw-away model folder that points at the shipped config/tokenizer and the unshipped fp32 graph.
  const tmp = mkdtempSync(path.join(tmpdir(), 'sentiment-fp32-'));
  const dir = path.join(tmp, 'sentiment-bert');
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) symlinkSync(path.join(modelDir, f), path.join(dir, f));
  symlinkSync(fp32File, path.join(dir, 'onnx', 'model.onnx'));
  fp32 = score(truth, await predict(await load(dir, 'fp32'), texts));
  rmSync(tmp, { recursive: true, force: true });
}

const headlines = parse(readFileSync(path.join(here, 'headlines.csv')), { columns: true });
const headlinePred = await predict(quantized, headlines.map((h) => h.headline));
const headlineRows = headlines.map((h, i) => ({ headline: h.headline, expected: h.expected, predicted: LABELS[headlinePred[i]] }));
const headlineAccuracy = headlineRows.filter((r) => r.expected === r.predicted).length / headlineRows.length;

const metricsPath = path.join(modelDir, 'metrics.json');
const metrics = JSON.parse(readFileSync(metricsPath, 'utf8'));
metrics.valid.transformersjs_int8 = q8;
if (fp32) metrics.valid.transformersjs_fp32 = fp32;
const reference = fp32 ?? metrics.valid.pytorch_fp32;
metrics.valid.quantization_accuracy_loss_points = Math.round((reference.accuracy - q8.accuracy) * 10000) / 100;
metrics.headlines = { count: headlineRows.length, accuracy: Math.round(headlineAccuracy * 1000) / 1000 };
metrics.load_ms_int8 = quantized.loadMs;
metrics.artifact_bytes_int8 = readFileSync(path.join(modelDir, 'onnx', 'model_quantized.onnx')).length;
writeFileSync(metricsPath, JSON.stringify(metrics, null, 1) + '\n');

const template = readFileSync(path.join(here, 'MODEL_CARD.template.md'), 'utf8');
const table = ['| headline | expected | predicted |', '|---|---|---|',
  ...headlineRows.map((r) => `| ${r.headline} | ${r.expected} | ${r.predicted}${r.expected === r.predicted ? '' : ' ✗'} |`)].join('\n');
const fill = { ...flatten(metrics), headline_table: table };
writeFileSync(path.join(modelDir, 'MODEL_CARD.md'), template.replace(/\{\{([\w.]+)\}\}/g, (_, k) => String(fill[k] ?? `{{${k}}}`)));
console.log(JSON.stringify({ valid: metrics.valid, headlines: metrics.headlines, load_ms_int8: quantized.loadMs }, null, 1));

/** Decile bins like numpy's quantile (linear) + unique; value v falls in bin searchsorted(edges, v, 'right'). */
function profile(name, values) {
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

function flatten(obj, prefix = '') {
  return Object.entries(obj).reduce((acc, [k, v]) => (v && typeof v === 'object' && !Array.isArray(v)
    ? { ...acc, ...flatten(v, `${prefix}${k}.`) } : { ...acc, [`${prefix}${k}`]: v }), {});
}
