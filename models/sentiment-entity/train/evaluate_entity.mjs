#!/usr/bin/env node
// Scores the shipped entity model as the gateway runs it (transformers.js, int8 ONNX, the target marked as <<target>>)
// on SEntFiN's held-out entity pairs (the test headlines of sentiment-bert's news_split.json), per entity and on the
// headlines whose entities disagree, beside the text-level baseline in the same run: sentiment-bert's label of the
// whole headline given to every entity in it. Writes metrics.json's evaluation, baseline.json and MODEL_CARD.md.
//
// Usage: node models/sentiment-entity/train/evaluate_entity.mjs [--data ../shared/data]
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { argmax, flatten, loadClassifier, probabilities, profile } from '../../common/text-classifier-eval.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = path.resolve(here, '..');
const repo = path.resolve(modelDir, '..', '..');
const sentimentDir = path.join(repo, 'models', 'sentiment-bert');
const argIndex = process.argv.indexOf('--data');
const dataDir = argIndex > 0 ? process.argv[argIndex + 1] : path.join(repo, '..', 'shared', 'data');
const LABELS = ['negative', 'neutral', 'positive'];

/** As src/domains/sentiment/target-markers.ts and train_entity.py mark a target. */
const mark = (text, target) =>
  text.replace(new RegExp(target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), (m) => `<<${m}>>`);

const load = (dir) => loadClassifier(dir);
const round = (x) => Math.round(x * 10000) / 10000;

function score(truth, pred, probs) {
  const f1s = LABELS.map((_, k) => {
    const tp = pred.filter((p, i) => p === k && truth[i] === k).length;
    const fp = pred.filter((p, i) => p === k && truth[i] !== k).length;
    const fn = pred.filter((p, i) => p !== k && truth[i] === k).length;
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  });
  const result = {
    rows: truth.length,
    accuracy: round(pred.filter((p, i) => p === truth[i]).length / truth.length),
    macro_f1: round(f1s.reduce((a, b) => a + b, 0) / 3),
    f1_by_label: Object.fromEntries(LABELS.map((l, k) => [l, round(f1s[k])])),
  };
  if (probs) {
    const bins = Array.from({ length: 10 }, () => ({ n: 0, correct: 0, confidence: 0 }));
    probs.forEach((row, i) => {
      const c = Math.max(...row);
      const b = bins[Math.min(9, Math.max(0, Math.ceil(c * 10) - 1))];
      b.n++;
      b.confidence += c;
      b.correct += argmax(row) === truth[i] ? 1 : 0;
    });
    result.ece = round(
      bins.reduce(
        (acc, b) => acc + (b.n ? (b.n / probs.length) * Math.abs(b.correct / b.n - b.confidence / b.n) : 0),
        0,
      ),
    );
  }
  return result;
}

const sentfin = parse(readFileSync(path.join(dataDir, 'news', 'sentfin.csv')), {
  columns: true,
  relax_column_count: true,
});
const split = JSON.parse(readFileSync(path.join(sentimentDir, 'news_split.json'), 'utf8'));
const pairs = split.test.flatMap((i) =>
  [...sentfin[i].entities.matchAll(/'(.*?)': '(positive|negative|neutral)'/g)]
    .filter(([, target]) => target && sentfin[i].text.toLowerCase().includes(target.toLowerCase()))
    .map(([, target, label]) => ({ row: i, text: sentfin[i].text, target, label: LABELS.indexOf(label) })),
);
const labelsOfRow = new Map();
for (const p of pairs) labelsOfRow.set(p.row, new Set([...(labelsOfRow.get(p.row) ?? []), p.label]));
const disagreeing = pairs.filter((p) => labelsOfRow.get(p.row).size > 1);

const entity = await load(modelDir);
const probs = await probabilities(
  entity,
  pairs.map((p) => mark(p.text, p.target)),
);
const textLevel = await load(sentimentDir);
const headlineProbs = await probabilities(
  textLevel,
  pairs.map((p) => p.text),
);
const pick = (rows, values) => rows.map((p) => values[pairs.indexOf(p)]);
const evaluation = {};
for (const [name, rows] of [
  ['sentfin_test_entities', pairs],
  ['sentfin_test_disagreeing', disagreeing],
]) {
  const truth = rows.map((p) => p.label);
  evaluation[name] = {
    transformersjs_int8: score(truth, pick(rows, probs).map(argmax), pick(rows, probs)),
    text_level_baseline: score(truth, pick(rows, headlineProbs).map(argmax)),
  };
}
const sentimentVersion = JSON.parse(readFileSync(path.join(sentimentDir, 'manifest.json'), 'utf8')).version;

const metricsPath = path.join(modelDir, 'metrics.json');
const metrics = JSON.parse(readFileSync(metricsPath, 'utf8'));
metrics.evaluation = evaluation;
metrics.text_level_baseline_model = `sentiment-bert ${sentimentVersion}, int8, the headline's label given to each of its entities`;
metrics.load_ms_int8 = entity.loadMs;
metrics.evaluation_machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown CPU'}`;
metrics.artifact_bytes_int8 = readFileSync(path.join(modelDir, 'onnx', 'model_quantized.onnx')).length;
writeFileSync(metricsPath, `${JSON.stringify(metrics, null, 1)}\n`);

// Drift baseline as sentiment-bert's: word count in, net sentiment toward the target out (SEntFiN test pairs).
writeFileSync(
  path.join(modelDir, 'baseline.json'),
  `${JSON.stringify(
    {
      source: 'SEntFiN test entity pairs through the shipped int8 model',
      rows: pairs.length,
      features: [
        profile(
          'word_count',
          pairs.map((p) => p.text.trim().split(/\s+/).length),
        ),
      ],
      output: profile(
        'net_sentiment',
        probs.map((p) => p[2] - p[0]),
      ),
    },
    null,
    1,
  )}\n`,
);

const cell = (t) => t.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
const misses = disagreeing
  .map((p) => ({ ...p, probs: probs[pairs.indexOf(p)] }))
  .filter((p) => argmax(p.probs) !== p.label)
  .sort((a, b) => Math.max(...b.probs) - Math.max(...a.probs))
  .slice(0, 10);
const missTable = [
  '| headline | target | annotated | predicted (probability) |',
  '|---|---|---|---|',
  ...misses.map(
    (m) =>
      `| ${cell(m.text)} | ${cell(m.target)} | ${LABELS[m.label]} | ${LABELS[argmax(m.probs)]} (${Math.max(...m.probs).toFixed(2)}) |`,
  ),
].join('\n');
const flat = flatten(metrics);
const template = readFileSync(path.join(here, 'MODEL_CARD.template.md'), 'utf8');
writeFileSync(
  path.join(modelDir, 'MODEL_CARD.md'),
  template.replace(/\{\{([\w.]+)\}\}/g, (_, k) => String(k === 'miss_table' ? missTable : (flat[k] ?? `{{${k}}}`))),
);
console.log(JSON.stringify({ evaluation, load_ms_int8: entity.loadMs }, null, 1));
