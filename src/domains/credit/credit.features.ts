import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FeatureInfo } from './credit.scoring.js';

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
export const EDUCATION_CODE: Record<EducationLevelName, number> = { GRADUATE_SCHOOL: 1, UNIVERSITY: 2, HIGH_SCHOOL: 3, OTHER: 4, UNKNOWN: 0 };

export const MONTHS = 6;
/** Repayment status codes the API accepts: −2 no consumption, −1 paid in full, 0 revolving, 1–9 months of delay. */
const STATUS_CODES = [-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

const clip = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const months = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Every feature a credit model version may ask for, by the name its features.json uses, computed
 * from one account before any code encoding. Mirrors `raw_features` in
 * models/credit-gbt/train/train_credit.py; test_vectors.json written by training checks the two agree.
 */
export function namedCreditFeatures(a: CardAccount): Map<string, number> {
  const status = a.repaymentStatus;
  const bills = a.billAmounts;
  const payments = a.paymentAmounts;
  const limit = a.creditLimit;
  const utilization = bills.map((b) => b / limit);
  // Payment k pays (part of) the statement before it, k + 1.
  const paymentRatio = payments.slice(0, MONTHS - 1).map((p, k) => clip(p / Math.max(bills[k + 1]!, 1), 0, 10));
  const meanBill = sum(bills) / MONTHS;
  const f = new Map<string, number>([['credit_limit', limit], ['age', a.age], ['education', EDUCATION_CODE[a.education]]]);
  for (let k = 1; k <= MONTHS; k++) {
    f.set(`repayment_status_${k}`, status[k - 1]!);
    f.set(`bill_amount_${k}`, bills[k - 1]!);
    f.set(`payment_amount_${k}`, payments[k - 1]!);
  }
  f.set('utilization', utilization[0]!);
  f.set('payment_ratio', paymentRatio[0]!);
  for (const k of months(2, 6)) f.set(`utilization_${k}`, utilization[k - 1]!);
  for (const k of months(2, 5)) f.set(`payment_ratio_${k}`, paymentRatio[k - 1]!);
  f.set('balance_growth', (bills[0]! - bills[MONTHS - 1]!) / limit);
  f.set('months_delayed', status.filter((s) => s >= 1).length);
  f.set('max_delay', Math.max(...status));
  f.set('bill_volatility', Math.sqrt(sum(bills.map((b) => (b - meanBill) ** 2)) / MONTHS) / limit);
  f.set('total_payment_ratio', sum(payments.slice(0, MONTHS - 1)) / Math.max(sum(bills.slice(1)), 1));
  return f;
}

/** The codes each code feature can take through the API: an encoding must cover all of them. */
const CODE_DOMAINS: ReadonlyMap<string, readonly number[]> = new Map([
  ['education', Object.values(EDUCATION_CODE)],
  ...months(1, 6).map((k): [string, readonly number[]] => [`repayment_status_${k}`, STATUS_CODES]),
]);
const KNOWN_FEATURES = new Set(namedCreditFeatures({
  creditLimit: 1, age: 30, education: 'UNKNOWN', repaymentStatus: [0, 0, 0, 0, 0, 0], billAmounts: [0, 0, 0, 0, 0, 0], paymentAmounts: [0, 0, 0, 0, 0, 0],
}).keys());

const featureFile = z.object({
  features: z.array(z.object({
    index: z.number().int(),
    name: z.string(),
    reasonCode: z.string().min(1),
    description: z.string().min(1),
    /** The model sees table[code] instead of the code, the code first lowered to clampAbove when set. */
    encoding: z.object({ table: z.record(z.string(), z.number().finite()), clampAbove: z.number().int().nullable() }).optional(),
  })).min(1),
});
type FeatureSpecEntry = z.infer<typeof featureFile>['features'][number];

/**
 * One credit model version's input contract (its features.json): which named features, in which
 * order, with which code encodings, and the reason code and text of each. Refuses a file the gateway
 * could not honour, so a version with one is never activated.
 */
export class CreditFeatureSpec {
  readonly features: readonly FeatureInfo[];

  private constructor(private readonly entries: readonly FeatureSpecEntry[]) {
    this.features = entries.map(({ index, name, reasonCode, description }) => ({ index, name, reasonCode, description }));
  }

  static parse(json: unknown, source: string): CreditFeatureSpec {
    const parsed = featureFile.safeParse(json);
    if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const problems: string[] = [];
    parsed.data.features.forEach((f, i) => {
      if (f.index !== i) problems.push(`feature ${f.name} has index ${f.index} at position ${i}`);
      if (!KNOWN_FEATURES.has(f.name)) problems.push(`unknown feature ${f.name}`);
      if (!f.encoding) return;
      const domain = CODE_DOMAINS.get(f.name);
      if (!domain) {
        problems.push(`feature ${f.name} is not a code and cannot have an encoding`);
        return;
      }
      const missing = domain.filter((code) => !Object.hasOwn(f.encoding!.table, encodingKey(code, f.encoding!.clampAbove)));
      if (missing.length) problems.push(`the encoding of ${f.name} has no value for code(s) ${missing.join(', ')}`);
    });
    if (problems.length) throw new Error(`${source}: ${problems.join('; ')}`);
    return new CreditFeatureSpec(parsed.data.features);
  }

  get width(): number {
    return this.entries.length;
  }

  /** The model's input row for one account. */
  build(account: CardAccount): Float32Array {
    const named = namedCreditFeatures(account);
    return Float32Array.from(this.entries, ({ name, encoding }) => {
      const value = named.get(name)!;
      return encoding ? encoding.table[encodingKey(value, encoding.clampAbove)]! : value;
    });
  }
}

const encodingKey = (code: number, clampAbove: number | null) => String(clampAbove === null ? code : Math.min(code, clampAbove));

/** The feature spec of the model version whose artifacts are in `dir` (its features.json). */
export function readCreditFeatureSpec(dir: string): CreditFeatureSpec {
  const file = path.join(dir, 'features.json');
  return CreditFeatureSpec.parse(JSON.parse(readFileSync(file, 'utf8')), file);
}
