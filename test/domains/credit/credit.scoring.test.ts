import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  CreditFeatureSpec,
  readCreditFeatureSpec,
  type CardAccount,
} from '../../../src/domains/credit/credit.features.js';
import { creditDecision, creditGrade, creditScore, topReasons } from '../../../src/domains/credit/credit.scoring.js';
import { REPO_ROOT } from '../../../src/platform/config.js';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'credit-gbt');
const vectors = JSON.parse(readFileSync(path.join(MODEL_DIR, 'test_vectors.json'), 'utf8')) as Array<{
  account: CardAccount;
  features: number[];
}>;
const featureFile = JSON.parse(readFileSync(path.join(MODEL_DIR, 'features.json'), 'utf8')) as {
  features: Array<Record<string, unknown>>;
};
const spec = readCreditFeatureSpec(MODEL_DIR);
const { features } = spec;
const FEATURE_COUNT = spec.width;

describe('credit score (PDO scaling)', () => {
  it('is 600 at odds 50:1 and gains 20 points each time the odds double', () => {
    assert.equal(creditScore(1 / 51), 600);
    assert.equal(creditScore(1 / 101), 620);
    assert.equal(creditScore(1 / 201), 640);
    assert.equal(creditScore(1 / 26), 580);
  });

  it('is rounded and clamped to 300..850', () => {
    assert.equal(creditScore(0.5), Math.round(600 - (20 / Math.LN2) * Math.log(50)));
    assert.equal(creditScore(0.999999), 300);
    assert.equal(creditScore(1e-7), 850);
    assert.equal(creditScore(0), 850);
    assert.equal(creditScore(1), 300);
  });

  it('falls as the probability of default rises', () => {
    const scores = [0.01, 0.05, 0.1, 0.2, 0.4].map(creditScore);
    assert.deepEqual(
      [...scores].sort((a, b) => b - a),
      scores,
    );
  });
});

describe('grades and decisions', () => {
  it('grades by PD band, bounds exclusive above', () => {
    assert.deepEqual(
      [0, 0.0199, 0.02, 0.049, 0.05, 0.0999, 0.1, 0.19, 0.2, 0.349, 0.35, 0.499, 0.5, 1].map(creditGrade),
      ['A', 'A', 'B', 'B', 'C', 'C', 'D', 'D', 'E', 'E', 'F', 'F', 'G', 'G'],
    );
  });

  it('decides by the configured thresholds', () => {
    const t = { approveBelow: 0.2, declineFrom: 0.45 };
    assert.deepEqual(
      [0.1, 0.1999, 0.2, 0.44, 0.45, 0.9].map((pd) => creditDecision(pd, t)),
      ['APPROVE', 'APPROVE', 'REVIEW', 'REVIEW', 'DECLINE', 'DECLINE'],
    );
    assert.equal(creditDecision(0.3, { approveBelow: 0.35, declineFrom: 0.6 }), 'APPROVE');
  });
});

describe('reasons', () => {
  it('are the up-to-4 largest positive contributions, largest first, never the ones that lowered risk', () => {
    const c = new Float32Array(FEATURE_COUNT);
    c[3] = 0.9;
    c[0] = 0.1;
    c[30] = 0.5;
    c[10] = -2;
    c[11] = 0.3;
    c[12] = 0.2;
    const reasons = topReasons(c, features);
    assert.deepEqual(
      reasons.map((r) => r.feature),
      [3, 30, 11, 12].map((i) => features[i]!.name),
    );
    assert.equal(reasons[0]!.feature, 'repayment_status_1');
    assert.ok(reasons.every((r) => r.contribution > 0 && r.code && r.description));
    assert.deepEqual(topReasons(new Float32Array(FEATURE_COUNT).fill(-1), features), []);
  });

  it('equal a stable sort of the positive contributions, ties and NaN included', () => {
    const bySort = (c: ArrayLike<number>, max: number) =>
      features
        .map((f) => ({ code: f.reasonCode, feature: f.name, description: f.description, contribution: c[f.index]! }))
        .filter((r) => r.contribution > 1e-6)
        .sort((a, b) => b.contribution - a.contribution)
        .slice(0, max);
    let compared = 0;
    for (let v = 0; v < 2000; v++) {
      // Few distinct values, so ties are common; some negative, zero, tiny and NaN.
      const c = Float32Array.from(
        { length: FEATURE_COUNT },
        (_, i) => [-1, 0, 1e-7, 0.5, 0.25, 2, Number.NaN][(v * 7 + i * i * 3 + (v >> 3) * i) % 7]!,
      );
      const max = 1 + (v % 6);
      assert.deepEqual(topReasons(c, features, max), bySort(c, max), `vector ${v}, max ${max}`);
      compared++;
    }
    assert.equal(compared, 2000);
  });
});

describe('credit features', () => {
  it('match what the training run computed for the same accounts (test_vectors.json)', () => {
    assert.equal(FEATURE_COUNT, 37);
    assert.ok(vectors.length >= 5, `test_vectors.json holds ${vectors.length} accounts`);
    for (const v of vectors) {
      const row = spec.build(v.account);
      assert.equal(row.length, FEATURE_COUNT);
      assert.equal(v.features.length, FEATURE_COUNT);
      v.features.forEach((expected, i) =>
        assert.ok(
          Math.abs(row[i]! - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
          `${features[i]!.name}: ${row[i]} vs ${expected}`,
        ),
      );
    }
  });

  it('are the same built one by one or many at once, the latter as views of one buffer', () => {
    const accounts = vectors.map((v) => v.account);
    const rows = spec.buildMany(accounts);
    assert.equal(rows.length, accounts.length);
    rows.forEach((row, i) => {
      assert.deepEqual([...row], [...spec.build(accounts[i]!)]);
      assert.equal(row.buffer, rows[0]!.buffer);
    });
    assert.deepEqual(spec.buildMany([]), []);
  });

  it('give NaN for a code outside the encoding table, which the runtime refuses, never a neighbouring value', () => {
    const account = vectors[0]!.account;
    for (const code of [-3, 0.5]) {
      const row = spec.build({ ...account, repaymentStatus: [code, ...account.repaymentStatus.slice(1)] });
      assert.ok(Number.isNaN(row[3]), `code ${code}`);
    }
  });

  it('encode repayment codes by their table, delays of 3+ months sharing one value', () => {
    const status = featureFile.features.find((f) => f.name === 'repayment_status_1')!.encoding as {
      table: Record<string, number>;
      clampAbove: number;
    };
    assert.equal(status.clampAbove, 3);
    const account = vectors[0]!.account;
    const at = (code: number) =>
      spec.build({ ...account, repaymentStatus: [code, ...account.repaymentStatus.slice(1)] })[3];
    assert.equal(at(-2), Math.fround(status.table['-2']!));
    assert.equal(at(2), Math.fround(status.table['2']!));
    assert.equal(at(3), Math.fround(status.table['3']!));
    assert.equal(at(9), at(3));
    assert.equal(at(12), at(3), 'a code above the clamp is clamped before the lookup');
    assert.ok(status.table['2']! > status.table['0']!, 'a two-month delay is riskier than revolving credit');
  });

  const withChange = (change: (fs: Array<Record<string, unknown>>) => void) => {
    const copy = structuredClone(featureFile);
    change(copy.features);
    return () => CreditFeatureSpec.parse(copy, 'features.json');
  };

  it('refuse a features.json the gateway could not honour, saying why', () => {
    assert.throws(
      withChange((fs) => {
        fs[4]!.name = 'shoe_size';
      }),
      /features\.json: unknown feature shoe_size/,
    );
    assert.throws(
      withChange((fs) => {
        fs.splice(2, 1);
      }),
      /feature repayment_status_1 has index 3 at position 2/,
    );
    assert.throws(
      withChange((fs) => {
        delete (fs[3]!.encoding as { table: Record<string, number> }).table['-1'];
      }),
      /the encoding of repayment_status_1 has no value for code\(s\) -1/,
    );
    assert.throws(
      withChange((fs) => {
        (fs[3]!.encoding as { clampAbove: number | null }).clampAbove = null;
      }),
      /the encoding of repayment_status_1 has no value for code\(s\) 4, 5, 6, 7, 8, 9/,
    );
    assert.throws(
      withChange((fs) => {
        fs[0]!.encoding = { table: {}, clampAbove: null };
      }),
      /credit_limit is not a code and cannot have an encoding/,
    );
    assert.throws(
      withChange((fs) => {
        delete fs[1]!.reasonCode;
      }),
      /features\.1\.reasonCode/,
    );
    assert.doesNotThrow(withChange(() => {}));
  });
});
