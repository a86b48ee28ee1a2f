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
export const EDUCATION_CODE: Record<EducationLevelName, number> = {
  GRADUATE_SCHOOL: 1,
  UNIVERSITY: 2,
  HIGH_SCHOOL: 3,
  OTHER: 4,
  UNKNOWN: 0,
};

export const MONTHS = 6;
/** Repayment status codes the API accepts: −2 no consumption, −1 paid in full, 0 revolving, 1–9 months of delay. */
const STATUS_CODES = [-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

const months = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Every feature a credit model version may ask for, by the name its features.json uses: the slots of creditFeatureValues. */
export const CREDIT_FEATURE_NAMES: readonly string[] = [
  'credit_limit',
  'age',
  'education',
  ...months(1, MONTHS).flatMap((k) => [`repayment_status_${k}`, `bill_amount_${k}`, `payment_amount_${k}`]),
  'utilization',
  'payment_ratio',
  ...months(2, 6).map((k) => `utilization_${k}`),
  ...months(2, 5).map((k) => `payment_ratio_${k}`),
  'balance_growth',
  'months_delayed',
  'max_delay',
  'bill_volatility',
  'total_payment_ratio',
];
const SLOT = new Map(CREDIT_FEATURE_NAMES.map((name, i) => [name, i]));
const slot = (name: string) => SLOT.get(name)!;
const [MONTHLY, UTILIZATION, PAYMENT_RATIO, UTILIZATION_2, PAYMENT_RATIO_2, BALANCE_GROWTH] = [
  slot('repayment_status_1'),
  slot('utilization'),
  slot('payment_ratio'),
  slot('utilization_2'),
  slot('payment_ratio_2'),
  slot('balance_growth'),
];

/**
 * Every feature of CREDIT_FEATURE_NAMES for one account, before any code encoding, written into `out` in
 * that order. Mirrors `raw_features` in models/credit-gbt/train/train_credit.py; test_vectors.json written
 * by training checks the two agree. Plain loops and no allocation: it runs once per account per request.
 */
export function creditFeatureValues(
  a: CardAccount,
  out: Float64Array = new Float64Array(CREDIT_FEATURE_NAMES.length),
): Float64Array {
  const status = a.repaymentStatus;
  const bills = a.billAmounts;
  const payments = a.paymentAmounts;
  const limit = a.creditLimit;
  out[0] = limit;
  out[1] = a.age;
  out[2] = EDUCATION_CODE[a.education];
  let billSum = 0;
  let delayed = 0;
  let maxDelay = -Infinity;
  for (let k = 0; k < MONTHS; k++) {
    out[MONTHLY + 3 * k] = status[k]!;
    out[MONTHLY + 3 * k + 1] = bills[k]!;
    out[MONTHLY + 3 * k + 2] = payments[k]!;
    billSum += bills[k]!;
    if (status[k]! >= 1) delayed++;
    if (status[k]! > maxDelay) maxDelay = status[k]!;
  }
  // Payment k pays (part of) the statement before it, k + 1.
  const paymentRatio = (k: number) => Math.min(Math.max(payments[k]! / Math.max(bills[k + 1]!, 1), 0), 10);
  out[UTILIZATION] = bills[0]! / limit;
  out[PAYMENT_RATIO] = paymentRatio(0);
  for (let k = 1; k < MONTHS; k++) out[UTILIZATION_2 + k - 1] = bills[k]! / limit;
  for (let k = 1; k < MONTHS - 1; k++) out[PAYMENT_RATIO_2 + k - 1] = paymentRatio(k);
  const meanBill = billSum / MONTHS;
  let squares = 0;
  let paid = 0;
  let billedBefore = 0;
  for (let k = 0; k < MONTHS; k++) squares += (bills[k]! - meanBill) ** 2;
  for (let k = 0; k < MONTHS - 1; k++) paid += payments[k]!;
  for (let k = 1; k < MONTHS; k++) billedBefore += bills[k]!;
  out[BALANCE_GROWTH] = (bills[0]! - bills[MONTHS - 1]!) / limit;
  out[BALANCE_GROWTH + 1] = delayed;
  out[BALANCE_GROWTH + 2] = maxDelay;
  out[BALANCE_GROWTH + 3] = Math.sqrt(squares / MONTHS) / limit;
  out[BALANCE_GROWTH + 4] = paid / Math.max(billedBefore, 1);
  return out;
}

/** The codes each code feature can take through the API: an encoding must cover all of them. */
const CODE_DOMAINS: ReadonlyMap<string, readonly number[]> = new Map([
  ['education', Object.values(EDUCATION_CODE)],
  ...months(1, 6).map((k): [string, readonly number[]] => [`repayment_status_${k}`, STATUS_CODES]),
]);
/** Every code of every code feature lies in -CODE_OFFSET .. CODE_RANGE - CODE_OFFSET - 1: the slots of an encoding's lookup. */
const ALL_CODES = [...CODE_DOMAINS.values()].flat();
const CODE_OFFSET = -Math.min(...ALL_CODES);
const CODE_RANGE = Math.max(...ALL_CODES) + CODE_OFFSET + 1;

const featureFile = z.object({
  features: z
    .array(
      z.object({
        index: z.number().int(),
        name: z.string(),
        reasonCode: z.string().min(1),
        description: z.string().min(1),
        /** The model sees table[code] instead of the code, the code first lowered to clampAbove when set. */
        encoding: z
          .object({ table: z.record(z.string(), z.number().finite()), clampAbove: z.number().int().nullable() })
          .optional(),
      }),
    )
    .min(1),
});
type FeatureSpecEntry = z.infer<typeof featureFile>['features'][number];

/**
 * One credit model version's input contract (its features.json): which named features, in which
 * order, with which code encodings, and the reason code and text of each. Refuses a file the gateway
 * could not honour, so a version with one is never activated.
 */
export class CreditFeatureSpec {
  readonly features: readonly FeatureInfo[];
  /** For each model input, in order: its slot in creditFeatureValues. */
  private readonly slots: Int32Array;
  /**
   * For each model input: its code encoding, or null. `byCode` is the table as a lookup by code +
   * CODE_OFFSET (NaN where the table has none); larger codes are first lowered to `clampAbove`.
   */
  private readonly encodings: ReadonlyArray<{ readonly byCode: Float64Array; readonly clampAbove: number } | null>;
  /** Scratch row of creditFeatureValues, reused: build() is synchronous. */
  private readonly values = new Float64Array(CREDIT_FEATURE_NAMES.length);

  private constructor(entries: readonly FeatureSpecEntry[]) {
    this.features = entries.map(({ index, name, reasonCode, description }) => ({
      index,
      name,
      reasonCode,
      description,
    }));
    this.slots = Int32Array.from(entries, (e) => slot(e.name));
    this.encodings = entries.map(({ encoding }) =>
      encoding
        ? {
            byCode: Float64Array.from(
              { length: CODE_RANGE },
              (_, i) => encoding.table[encodingKey(i - CODE_OFFSET, encoding.clampAbove)] ?? Number.NaN,
            ),
            clampAbove: encoding.clampAbove ?? Infinity,
          }
        : null,
    );
  }

  static parse(json: unknown, source: string): CreditFeatureSpec {
    const parsed = featureFile.safeParse(json);
    if (!parsed.success)
      throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const problems: string[] = [];
    parsed.data.features.forEach((f, i) => {
      if (f.index !== i) problems.push(`feature ${f.name} has index ${f.index} at position ${i}`);
      if (!SLOT.has(f.name)) problems.push(`unknown feature ${f.name}`);
      if (!f.encoding) return;
      const domain = CODE_DOMAINS.get(f.name);
      if (!domain) {
        problems.push(`feature ${f.name} is not a code and cannot have an encoding`);
        return;
      }
      const missing = domain.filter(
        (code) => !Object.hasOwn(f.encoding!.table, encodingKey(code, f.encoding!.clampAbove)),
      );
      if (missing.length) problems.push(`the encoding of ${f.name} has no value for code(s) ${missing.join(', ')}`);
    });
    if (problems.length) throw new Error(`${source}: ${problems.join('; ')}`);
    return new CreditFeatureSpec(parsed.data.features);
  }

  get width(): number {
    return this.slots.length;
  }

  /** The model's input row for one account. A code outside its encoding's table gives NaN, which the runtime refuses. */
  build(account: CardAccount): Float32Array {
    return this.fill(account, new Float32Array(this.slots.length));
  }

  /** The rows of many accounts, as views of one buffer: one allocation per request instead of one per account. */
  buildMany(accounts: readonly CardAccount[]): Float32Array[] {
    const width = this.slots.length;
    const data = new Float32Array(accounts.length * width);
    return accounts.map((account, i) => this.fill(account, data.subarray(i * width, (i + 1) * width)));
  }

  private fill(account: CardAccount, row: Float32Array): Float32Array {
    const values = creditFeatureValues(account, this.values);
    for (let i = 0; i < row.length; i++) {
      const value = values[this.slots[i]!]!;
      const encoding = this.encodings[i];
      if (!encoding) {
        row[i] = value;
        continue;
      }
      const code = Math.min(value, encoding.clampAbove);
      row[i] = Number.isInteger(code) ? (encoding.byCode[code + CODE_OFFSET] ?? Number.NaN) : Number.NaN;
    }
    return row;
  }
}

const encodingKey = (code: number, clampAbove: number | null) =>
  String(clampAbove === null ? code : Math.min(code, clampAbove));

/** The feature spec of the model version whose artifacts are in `dir` (its features.json). */
export function readCreditFeatureSpec(dir: string): CreditFeatureSpec {
  const file = path.join(dir, 'features.json');
  return CreditFeatureSpec.parse(JSON.parse(readFileSync(file, 'utf8')), file);
}
