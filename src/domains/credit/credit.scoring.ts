/** Points-to-double-odds scaling: 600 points at 50:1 good:bad odds, 20 points to double the odds. */
export const SCORE_SCALING = { base: 600, baseOdds: 50, pdo: 20, min: 300, max: 850 } as const;

const FACTOR = SCORE_SCALING.pdo / Math.LN2;
const OFFSET = SCORE_SCALING.base - FACTOR * Math.log(SCORE_SCALING.baseOdds);

/**
 * Score from probability of default: offset + factor * ln((1 - pd) / pd), rounded and clamped to 300..850.
 * @example creditScore(1 / 51) === 600   // odds 50:1
 * @example creditScore(1 / 101) === 620  // odds 100:1, doubled
 */
export function creditScore(pd: number): number {
  const p = Math.min(Math.max(pd, 1e-9), 1 - 1e-9);
  const raw = OFFSET + FACTOR * Math.log((1 - p) / p);
  return Math.min(SCORE_SCALING.max, Math.max(SCORE_SCALING.min, Math.round(raw)));
}

export type CreditGradeName = 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G';

/** Upper PD bound (exclusive) of each grade; G is everything from 50 %. */
export const GRADE_BANDS: ReadonlyArray<readonly [CreditGradeName, number]> = [
  ['A', 0.02],
  ['B', 0.05],
  ['C', 0.1],
  ['D', 0.2],
  ['E', 0.35],
  ['F', 0.5],
  ['G', Infinity],
];

/** @example creditGrade(0.07) === 'C' */
export function creditGrade(pd: number): CreditGradeName {
  return GRADE_BANDS.find(([, upper]) => pd < upper)![0];
}

export type CreditDecisionName = 'APPROVE' | 'REVIEW' | 'DECLINE';

export interface DecisionThresholds {
  /** APPROVE when PD is below this. */
  readonly approveBelow: number;
  /** DECLINE when PD is at or above this; REVIEW in between. */
  readonly declineFrom: number;
}

export function creditDecision(pd: number, t: DecisionThresholds): CreditDecisionName {
  if (pd < t.approveBelow) return 'APPROVE';
  return pd >= t.declineFrom ? 'DECLINE' : 'REVIEW';
}

export interface FeatureInfo {
  readonly index: number;
  readonly name: string;
  readonly reasonCode: string;
  readonly description: string;
}

export interface CreditReasonResult {
  readonly code: string;
  readonly feature: string;
  readonly description: string;
  /** Added log-odds of default. */
  readonly contribution: number;
}

/**
 * The up-to-`max` features that raised the risk most (largest positive contributions to the log-odds),
 * largest first. Features that lowered the risk are never reasons.
 */
export function topReasons(
  contributions: ArrayLike<number>,
  features: readonly FeatureInfo[],
  max = 4,
): CreditReasonResult[] {
  // One pass keeping the best `max` in order (ties: the earlier feature first, as a stable sort gives), and
  // objects only for those: it runs for every account of every request.
  const best: FeatureInfo[] = [];
  const values: number[] = [];
  for (const f of features) {
    const c = contributions[f.index]!;
    if (!(c > 1e-6) || (best.length === max && c <= values[max - 1]!)) continue;
    let at = best.length === max ? max - 1 : best.length;
    while (at > 0 && values[at - 1]! < c) {
      best[at] = best[at - 1]!;
      values[at] = values[at - 1]!;
      at--;
    }
    best[at] = f;
    values[at] = c;
  }
  return best.map((f, i) => ({
    code: f.reasonCode,
    feature: f.name,
    description: f.description,
    contribution: values[i]!,
  }));
}
