#!/usr/bin/env node
// Scores the shipped model exactly as the gateway runs it: transformers.js tokenisation and the int8
// ONNX file on onnxruntime-node, on the tweet validation set and the news test split (news_split.json).
// Also scores the fp32 export (when the training run left it in train/.work), the earlier versions kept under
// versions/ and a 20-word keyword rule on the same sets, and the project-written headlines, then writes
// metrics.json, baseline.json and MODEL_CARD.md.
//
// Usage: node models/sentiment-bert/train/evaluate_sentiment.mjs [--data ../shared/data]
import { readFileSync, writeFileSync, existsSync, mkdtempSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { argmax, flatten, loadClassifier, probabilities, profile } from '../../common/text-classifier-eval.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = path.resolve(here, '..');
const repo = path.resolve(modelDir, '..', '..');
const argIndex = process.argv.indexOf('--data');
const dataDir = argIndex > 0 ? process.argv[argIndex + 1] : path.join(repo, '..', 'shared', 'data');
const LABELS = ['negative', 'neutral', 'positive'];
const SOURCE_LABEL = { bearish: 0, negative: 0, neutral: 1, bullish: 2, positive: 2 };

const load = loadClassifier;

function score(truth, pred) {
  const f1s = LABELS.map((_, k) => {
    const tp = pred.filter((p, i) => p === k && truth[i] === k).length;
    const fp = pred.filter((p, i) => p === k && truth[i] !== k).length;
    const fn = pred.filter((p, i) => p !== k && truth[i] === k).length;
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  });
  const accuracy = pred.filter((p, i) => p === truth[i]).length / truth.length;
  const round = (x) => Math.round(x * 10000) / 10000;
  return {
    accuracy: round(accuracy),
    macro_f1: round(f1s.reduce((a, b) => a + b, 0) / f1s.length),
    f1_by_label: Object.fromEntries(LABELS.map((l, k) => [l, round(f1s[k])])),
  };
}

const rows = (file) => parse(readFileSync(file), { columns: true, relax_column_count: true });
const tweets = rows(path.join(dataDir, 'sentiment', 'valid.csv')).map((r) => ({
  text: r.text,
  label: SOURCE_LABEL[r.label],
}));
// The news test split: SEntFiN rows chosen by the training run (news_split.json), mixed-polarity rows left out.
const split = JSON.parse(readFileSync(path.join(modelDir, 'news_split.json'), 'utf8'));
const sentfin = rows(path.join(dataDir, 'news', 'sentfin.csv'));
const news = split.test
  .map((i) => sentfin[i])
  .filter((r) => r.label !== 'mixed')
  .map((r) => ({ text: r.text, label: SOURCE_LABEL[r.label] }));
// FiQA headlines: news from other outlets than SEntFiN's, never trained on (train_sentiment.py holds them out).
const fiqa = rows(path.join(dataDir, 'finance_text', 'extra_sentiment.csv'))
  .filter((r) => r.source === 'fiqa_headline')
  .map((r) => ({ text: r.text, label: SOURCE_LABEL[r.label] }));
const evaluations = { tweets_valid: tweets, news_test: news, fiqa_headlines: fiqa };

/** Accuracy, macro-F1, F1 by label and expected calibration error (10 bins) of a model on every evaluation set. */
async function evaluate(loaded) {
  const out = {};
  for (const [name, set] of Object.entries(evaluations)) {
    const probs = await probabilities(
      loaded,
      set.map((r) => r.text),
    );
    const truth = set.map((r) => r.label);
    out[name] = { ...score(truth, probs.map(argmax)), ece: ece(truth, probs), _probs: probs };
  }
  return out;
}

const quantized = await load(modelDir, 'q8');
const q8 = await evaluate(quantized);
const version1 = await evaluate(await load(path.join(modelDir, 'versions', '1.0.0'), 'q8'));
const version2 = existsSync(path.join(modelDir, 'versions', '2.0.0'))
  ? await evaluate(await load(path.join(modelDir, 'versions', '2.0.0'), 'q8'))
  : null;
const keywords = Object.fromEntries(
  Object.entries(evaluations).map(([name, set]) => [
    name,
    score(
      set.map((r) => r.label),
      set.map((r) => keywordRule(r.text)),
    ),
  ]),
);

// Drift baseline: live word counts and net sentiment are compared with these (models/common/baseline.py bins alike).
const texts = tweets.map((r) => r.text);
const wordCount = (t) => t.trim().split(/\s+/).length;
writeFileSync(
  path.join(modelDir, 'baseline.json'),
  `${JSON.stringify(
    {
      source: 'sentiment/valid.csv through the shipped int8 model',
      rows: texts.length,
      features: [profile('word_count', texts.map(wordCount))],
      output: profile(
        'net_sentiment',
        q8.tweets_valid._probs.map((p) => p[2] - p[0]),
      ),
    },
    null,
    1,
  )}\n`,
);

let fp32 = null;
const fp32File = path.join(here, '.work', 'model.onnx');
if (existsSync(fp32File)) {
  // A throw-away model folder that points at the shipped config/tokenizer and the unshipped fp32 graph.
  const tmp = mkdtempSync(path.join(tmpdir(), 'sentiment-fp32-'));
  const dir = path.join(tmp, 'sentiment-bert');
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    symlinkSync(path.join(modelDir, f), path.join(dir, f));
  symlinkSync(fp32File, path.join(dir, 'onnx', 'model.onnx'));
  fp32 = await evaluate(await load(dir, 'fp32'));
  rmSync(tmp, { recursive: true, force: true });
}

const headlines = parse(readFileSync(path.join(here, 'headlines.csv')), { columns: true });
const headlinePred = (
  await probabilities(
    quantized,
    headlines.map((h) => h.headline),
  )
).map(argmax);
const headlineRows = headlines.map((h, i) => ({
  headline: h.headline,
  expected: h.expected,
  predicted: LABELS[headlinePred[i]],
}));
const headlineAccuracy = headlineRows.filter((r) => r.expected === r.predicted).length / headlineRows.length;

// Each news set's most confident misses, for the card's failure modes.
const misses = (name) =>
  evaluations[name]
    .map((r, i) => ({ ...r, probs: q8[name]._probs[i] }))
    .filter((r) => argmax(r.probs) !== r.label)
    .sort((a, b) => Math.max(...b.probs) - Math.max(...a.probs))
    .slice(0, 10);

const strip = (result) =>
  Object.fromEntries(
    Object.entries(result).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).filter(([f]) => f !== '_probs'))]),
  );
const metricsPath = path.join(modelDir, 'metrics.json');
const metrics = JSON.parse(readFileSync(metricsPath, 'utf8'));
metrics.evaluation = {};
const [q8Scores, fp32Scores, version1Scores, version2Scores] = [q8, fp32, version1, version2].map((r) => r && strip(r));
for (const name of Object.keys(evaluations)) {
  const int8 = q8Scores[name];
  const reference = fp32Scores ? fp32Scores[name] : metrics.pytorch_fp32[name].calibrated;
  metrics.evaluation[name] = {
    rows: evaluations[name].length,
    transformersjs_int8: int8,
    ...(fp32Scores ? { transformersjs_fp32: fp32Scores[name] } : {}),
    pytorch_fp32: metrics.pytorch_fp32[name],
    tfidf_logreg_baseline: metrics.tfidf_logreg_baseline[name],
    version_1_int8: version1Scores[name],
    ...(version2Scores ? { version_2_int8: version2Scores[name] } : {}),
    keyword_rule: keywords[name],
    quantization_accuracy_loss_points: Math.round((reference.accuracy - int8.accuracy) * 10000) / 100,
  };
}
metrics.headlines = { count: headlineRows.length, accuracy: Math.round(headlineAccuracy * 1000) / 1000 };
metrics.load_ms_int8 = quantized.loadMs;
// int8 kernels differ by instruction set, so the int8 scores are those of this machine.
metrics.evaluation_machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown CPU'}`;
metrics.artifact_bytes_int8 = readFileSync(path.join(modelDir, 'onnx', 'model_quantized.onnx')).length;
writeFileSync(metricsPath, `${JSON.stringify(metrics, null, 1)}\n`);

const template = readFileSync(path.join(here, 'MODEL_CARD.template.md'), 'utf8');
const cell = (t) => t.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const table = [
  '| headline | expected | predicted |',
  '|---|---|---|',
  ...headlineRows.map(
    (r) => `| ${cell(r.headline)} | ${r.expected} | ${r.predicted}${r.expected === r.predicted ? '' : ' ✗'} |`,
  ),
].join('\n');
const missTable = (name, title) =>
  [
    `| ${title} | annotated | predicted (probability) |`,
    '|---|---|---|',
    ...misses(name).map(
      (r) =>
        `| ${cell(r.text)} | ${LABELS[r.label]} | ${LABELS[argmax(r.probs)]} (${Math.max(...r.probs).toFixed(2)}) |`,
    ),
  ].join('\n');
const f = (x) => (x === undefined || x === null ? '' : x.toFixed ? x.toFixed(3) : x);
const devNames = Object.keys(metrics.training.history[0] ?? {}).filter((k) => k !== 'epoch' && k !== 'selection_score');
const devTable = [
  `| epoch | ${devNames.join(' | ')} | selection |`,
  `|---|${devNames.map(() => '---|').join('')}---|`,
  ...metrics.training.history.map(
    (h) =>
      `| ${h.epoch}${h.epoch === metrics.training.selected_epoch ? ' (chosen)' : ''} | ${devNames.map((n) => f(h[n].macro_f1)).join(' | ')} | ${f(h.selection_score)} |`,
  ),
].join('\n');
const row = (title, s, bold = false) =>
  s
    ? `| ${title} | ${bold ? `**${f(s.accuracy)}**` : f(s.accuracy)} | ${bold ? `**${f(s.macro_f1)}**` : f(s.macro_f1)} | ${f(s.ece)} |`
    : null;
const evalTable = Object.entries(metrics.evaluation)
  .map(([name, e]) =>
    [
      `**${name}** (${e.rows} texts)`,
      '',
      '| model | accuracy | macro-F1 | ECE (10 bins) |',
      '|---|---|---|---|',
      row('**shipped 3.0.0: int8 through transformers.js**', e.transformersjs_int8, true),
      row('3.0.0 fp32 ONNX through transformers.js', e.transformersjs_fp32),
      row('version 2.0.0, int8', e.version_2_int8),
      row('version 1.0.0, int8', e.version_1_int8),
      row('20-word keyword rule', e.keyword_rule),
      row('TF-IDF (1-2 grams) + logistic regression, same training data', e.tfidf_logreg_baseline),
    ]
      .filter((r) => r !== null)
      .join('\n'),
  )
  .join('\n\n');
const fill = {
  ...flatten(metrics),
  dev_table: devTable,
  eval_table: evalTable,
  headline_table: table,
  news_miss_table: missTable('news_test', 'SEntFiN headline (news test split)'),
  fiqa_miss_table: missTable('fiqa_headlines', 'FiQA headline'),
};
writeFileSync(
  path.join(modelDir, 'MODEL_CARD.md'),
  template.replace(/\{\{([\w.]+)\}\}/g, (_, k) => String(fill[k] ?? `{{${k}}}`)),
);
console.log(
  JSON.stringify(
    { evaluation: metrics.evaluation, headlines: metrics.headlines, load_ms_int8: quantized.loadMs },
    null,
    1,
  ),
);

/**
 * The 20-word keyword rule that independent testers compared the shipped model with: more up-words than down-words
 * is positive, more down-words negative, else neutral.
 */
function keywordRule(text) {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  const up = ['rose', 'rise', 'rises', 'gain', 'gains', 'up', 'beat', 'beats', 'profit', 'growth'];
  const down = ['fell', 'fall', 'falls', 'loss', 'losses', 'down', 'miss', 'misses', 'decline', 'cut'];
  const n = (list) => words.filter((w) => list.includes(w)).length;
  const d = n(up) - n(down);
  return d > 0 ? 2 : d < 0 ? 0 : 1;
}

/** Expected calibration error of the top label: 10 equal-width confidence bins, weighted by their share. */
function ece(truth, probs) {
  const bins = Array.from({ length: 10 }, () => ({ n: 0, correct: 0, confidence: 0 }));
  probs.forEach((row, i) => {
    const confidence = Math.max(...row);
    const bin = bins[Math.min(9, Math.max(0, Math.ceil(confidence * 10) - 1))];
    bin.n++;
    bin.confidence += confidence;
    bin.correct += argmax(row) === truth[i] ? 1 : 0;
  });
  const total = bins.reduce(
    (acc, b) => acc + (b.n ? (b.n / probs.length) * Math.abs(b.correct / b.n - b.confidence / b.n) : 0),
    0,
  );
  return Math.round(total * 10000) / 10000;
}
