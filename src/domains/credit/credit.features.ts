/** What the API receives for one card account (most recent month first in every list). */
export interface CardAccount {
  readonly accountId?: string | null;
  readonly creditLimit: number;
  readonly age: number;
  readonly education: EducationLevelName;
  readonly repaymentStatus: readonly number[];
  readonly billAmounts: readonly number[];
  readonly paymentAmounts: readonly number[];
}

export type EducationLevelName = 'GRADUATE_SCHOOL' | 'UNIVERSITY' | 'HIGH_SCHOOL' | 'OTHER' | 'UNKNOWN';

/** The training data's education codes (0 stands for its undocumented codes). */
const EDUCATION_CODE: Record<EducationLevelName, number> = { GRADUATE_SCHOOL: 1, UNIVERSITY: 2, HIGH_SCHOOL: 3, OTHER: 4, UNKNOWN: 0 };

export const MONTHS = 6;
export const FEATURE_COUNT = 35;

const clip = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);

/**
 * The model's input row, in the order of models/credit-gbt/features.json. Mirrors `build_features` in
 * models/credit-gbt/train/train_credit.py; test_vectors.json written by training checks the two agree.
 */
export function buildCreditFeatures(a: CardAccount): Float32Array {
  const status = a.repaymentStatus;
  const bills = a.billAmounts;
  const payments = a.paymentAmounts;
  const utilization = bills.map((b) => b / a.creditLimit);
  // Payment k pays (part of) the statement before it, k + 1.
  const paymentRatio = payments.slice(0, MONTHS - 1).map((p, k) => clip(p / Math.max(bills[k + 1]!, 1), 0, 10));
  return Float32Array.from([
    a.creditLimit, a.age, EDUCATION_CODE[a.education],
    ...status, ...bills, ...payments,
    utilization[0]!, paymentRatio[0]!,
    status.filter((s) => s >= 1).length, Math.max(...status),
    ...utilization.slice(1), ...paymentRatio.slice(1),
    (bills[0]! - bills[MONTHS - 1]!) / a.creditLimit,
  ]);
}
