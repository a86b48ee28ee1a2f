import { mean, wilcoxonRankSum } from 'simple-statistics';

/** Discrimination and calibration of predicted probabilities against 0/1 outcomes (model evaluation, not serving). */
function split(labels: readonly number[], scores: readonly number[]): { positives: number[]; negatives: number[] } {
  if (labels.length !== scores.length || labels.length === 0)
    throw new RangeError(`need as many labels as scores, and some: ${labels.length} and ${scores.length}`);
  const positives: number[] = [];
  const negatives: number[] = [];
  labels.forEach((y, i) => {
    if (y !== 0 && y !== 1) throw new RangeError(`labels must be 0 or 1, got ${y} at ${i}`);
    (y === 1 ? positives : negatives).push(scores[i]!);
  });
  if (!positives.length || !negatives.length) throw new RangeError('need both outcomes among the labels');
  return { positives, negatives };
}

/** Area under the ROC curve: the chance that a random positive outranks a random negative (ties count half). */
export function aucScore(labels: readonly number[], scores: readonly number[]): number {
  const { positives, negatives } = split(labels, scores);
  const n = positives.length;
  return (wilcoxonRankSum(positives, negatives) - (n * (n + 1)) / 2) / (n * negatives.length);
}

/** Kolmogorov–Smirnov statistic: the largest gap between the true- and false-positive rates over all thresholds. */
export function ksStatistic(labels: readonly number[], scores: readonly number[]): number {
  const { positives, negatives } = split(labels, scores);
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  let tp = 0;
  let fp = 0;
  let best = 0;
  order.forEach(([s, y], i) => {
    if (y === 1) tp++;
    else fp++;
    // only between distinct scores: a threshold cannot split tied accounts
    if (i === order.length - 1 || order[i + 1]![0] !== s)
      best = Math.max(best, tp / positives.length - fp / negatives.length);
  });
  return best;
}

/** Brier score: the mean squared difference between the probability and the outcome. */
export function brierScore(labels: readonly number[], probabilities: readonly number[]): number {
  split(labels, probabilities);
  return mean(probabilities.map((p, i) => (p - labels[i]!) ** 2));
}
