import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import {
  ActivateModelVersionDocument,
  CreditAssessmentDocument,
  CreditAssessmentsDocument,
  ModelByNameDocument,
  type CardAccountInput,
} from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';

const vectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'credit-gbt', 'test_vectors.json'), 'utf8'),
) as Array<{
  account: CardAccountInput;
  probabilityOfDefault: number;
  challengerProbabilityOfDefault: number;
  contributions: number[];
}>;
const featureNames = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'models', 'credit-gbt', 'features.json'), 'utf8')) as {
    features: Array<{ name: string }>;
  }
).features.map((f) => f.name);

describe('credit assessment over HTTP with the embedded model', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({ MODELS: 'credit-gbt', ALLOW_OPEN_ADMIN: 'true' });
  });
  after(() => gw.stop());

  const stats = async () => (await gql(gw.url, ModelByNameDocument, { name: 'credit-gbt' })).body.data!.model!.stats;

  it('answers what the training run computed for the same accounts: probabilities and reasons', async () => {
    const res = await gql(gw.url, CreditAssessmentsDocument, { accounts: vectors.map((v) => v.account) });
    const out = res.body.data!.creditAssessments;
    assert.ok(vectors.length >= 5, `test_vectors.json holds ${vectors.length} accounts`);
    assert.equal(out.length, vectors.length);
    out.forEach((a, i) => {
      assert.ok(Math.abs(a.probabilityOfDefault - vectors[i]!.probabilityOfDefault) < 1e-5, `${a.accountId}`);
      assert.equal(a.accountId, vectors[i]!.account.accountId);
      // the up-to-4 features whose contributions the training run's own tree walk found largest and positive
      const expected = vectors[i]!.contributions.map((c, f) => ({ feature: featureNames[f]!, contribution: c }))
        .filter((r) => r.contribution > 1e-4)
        .sort((x, y) => y.contribution - x.contribution)
        .slice(0, 4);
      assert.deepEqual(
        a.reasons.slice(0, expected.length).map((r) => r.feature),
        expected.map((r) => r.feature),
        `${a.accountId}`,
      );
      a.reasons.forEach((r, k) =>
        assert.ok(Math.abs(r.contribution - (expected[k]?.contribution ?? 0)) < 1e-4, `${a.accountId} ${r.feature}`),
      );
    });
  });

  it('1,000 accounts in one request: one batched inference, every field filled', async () => {
    const before = await stats();
    const accounts = Array.from({ length: 1000 }, (_, i) => sampleAccount(i));
    const res = await gql(gw.url, CreditAssessmentsDocument, { accounts });
    assert.equal(res.status, 200);
    const out = res.body.data!.creditAssessments;
    assert.equal(out.length, 1000);
    const after = await stats();
    assert.equal(after.batches - before.batches, 1);
    assert.equal(after.items - before.items, 1000);
    for (const a of out) {
      assert.ok(a.probabilityOfDefault > 0 && a.probabilityOfDefault < 1);
      assert.ok(a.score >= 300 && a.score <= 850);
      assert.ok(a.reasons.length <= 4);
      assert.deepEqual(a.model, { name: 'credit-gbt', version: '2.1.0' });
    }
    assert.deepEqual(
      out.map((a) => a.accountId),
      accounts.map((a) => a.accountId),
    );
    const late = out.filter((_, i) => i % 7 === 0);
    const onTime = out.filter((_, i) => i % 7 !== 0);
    const mean = (xs: typeof out) => xs.reduce((s, a) => s + a.probabilityOfDefault, 0) / xs.length;
    assert.ok(mean(late) > 2 * mean(onTime), 'accounts that pay late are riskier');
    assert.ok(
      late.every((a) => a.reasons.some((r) => /DELINQUENCY|DELAY/.test(r.code))),
      'late payers are told why',
    );
  });

  it('aliased single assessments in one operation are one batch (DataLoader)', async () => {
    const before = await stats();
    const query = `query($a: CardAccountInput!, $b: CardAccountInput!, $c: CardAccountInput!) {
      a: creditAssessment(account: $a) { score } b: creditAssessment(account: $b) { score } c: creditAssessment(account: $c) { score } }`;
    const res = await gql<Record<string, { score: number }>, unknown>(gw.url, query, {
      a: sampleAccount(1),
      b: sampleAccount(2),
      c: sampleAccount(3),
    });
    assert.equal(Object.keys(res.body.data!).length, 3);
    assert.equal((await stats()).batches - before.batches, 1);
  });

  it('a single assessment: score matches the PD, grade and decision follow it', async () => {
    const res = await gql(gw.url, CreditAssessmentDocument, { account: sampleAccount(7) });
    const a = res.body.data!.creditAssessment;
    const expectedScore = Math.round(
      600 -
        (20 / Math.LN2) * Math.log(50) +
        (20 / Math.LN2) * Math.log((1 - a.probabilityOfDefault) / a.probabilityOfDefault),
    );
    assert.equal(a.score, Math.min(850, Math.max(300, expectedScore)));
    assert.equal(
      a.decision,
      a.probabilityOfDefault < 0.2 ? 'APPROVE' : a.probabilityOfDefault >= 0.45 ? 'DECLINE' : 'REVIEW',
    );
  });

  it('misuse: each bad field is BAD_USER_INPUT naming the field and, in a list, the index', async () => {
    const bad = async (patch: Partial<CardAccountInput>, message: RegExp, index = 2) => {
      const accounts = [sampleAccount(0), sampleAccount(1), { ...sampleAccount(2), ...patch }];
      const res = await gql(gw.url, CreditAssessmentsDocument, { accounts });
      assert.deepEqual(codes(res), ['BAD_USER_INPUT'], JSON.stringify(res.body));
      assert.match(res.body.errors![0]!.message, message);
      if (index >= 0) assert.match(res.body.errors![0]!.message, new RegExp(`accounts\\[${index}\\]`));
      assert.equal(res.body.data ?? null, null, 'no silent partial answer');
    };
    await bad({ repaymentStatus: [0, 0, 0] }, /accounts\[2\]\.repaymentStatus.*at least 6/);
    await bad({ billAmounts: [1, 2, 3, 4, 5, 6, 7] }, /accounts\[2\]\.billAmounts.*no more than 6/);
    await bad({ creditLimit: 0 }, /accounts\[2\]\.creditLimit: must not be less than 1, got 0/);
    await bad({ creditLimit: -5 }, /creditLimit/);
    await bad({ age: 17 }, /accounts\[2\]\.age.*not be less than 18.*got 17/);
    await bad({ age: 101 }, /accounts\[2\]\.age/);
    await bad({ repaymentStatus: [0, 0, 0, 0, 0, 10] }, /accounts\[2\]\.repaymentStatus.*not be greater than 9/);
    await bad({ repaymentStatus: [-3, 0, 0, 0, 0, 0] }, /repaymentStatus/);
    await bad({ paymentAmounts: [1, 1, 1, 1, 1, -1] }, /accounts\[2\]\.paymentAmounts.*not be less than 0/);
    await bad({ accountId: 'x'.repeat(129) }, /accountId/);
    await bad({ billAmounts: ['NaN' as unknown as number, 0, 0, 0, 0, 0] }, /billAmounts|Float/, -1);
    await bad({ education: 'PHD' as CardAccountInput['education'] }, /education|EducationLevel/, -1);
  });

  it('misuse: more than 10,000 accounts, or none', async () => {
    const many = await gql(gw.url, CreditAssessmentsDocument, { accounts: new Array(10_001).fill(sampleAccount(1)) });
    assert.deepEqual(codes(many), ['BAD_USER_INPUT']);
    assert.match(many.body.errors![0]!.message, /accounts must hold 1\.\.10000 items, got 10001/);
    const none = await gql(gw.url, CreditAssessmentsDocument, { accounts: [] });
    assert.match(none.body.errors![0]!.message, /got 0/);
  });

  it('rolls back to the previous champion (versions/2.0.0), which answers what its own training run computed', async () => {
    const previous = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'models', 'credit-gbt', 'versions', '2.0.0', 'test_vectors.json'), 'utf8'),
    ) as typeof vectors;
    assert.equal(
      (await gql(gw.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '2.0.0' })).body.data!
        .activateModelVersion.version,
      '2.0.0',
    );
    const res = await gql(gw.url, CreditAssessmentsDocument, { accounts: previous.map((v) => v.account) });
    res.body.data!.creditAssessments.forEach((a, i) => {
      assert.ok(Math.abs(a.probabilityOfDefault - previous[i]!.probabilityOfDefault) < 1e-5, `${a.accountId}`);
      assert.equal(a.model.version, '2.0.0');
    });
    assert.equal(
      (await gql(gw.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '2.1.0' })).body.data!
        .activateModelVersion.version,
      '2.1.0',
    );
  });

  // Last: it leaves the challenger active.

  it('the shipped challenger (the WoE scorecard in versions/2.0.0-scorecard) answers what its training run computed', async () => {
    const swapped = await gql(gw.url, ActivateModelVersionDocument, { name: 'credit-gbt', version: '2.0.0-scorecard' });
    assert.equal(swapped.body.data!.activateModelVersion.version, '2.0.0-scorecard');
    const res = await gql(gw.url, CreditAssessmentsDocument, { accounts: vectors.map((v) => v.account) });
    res.body.data!.creditAssessments.forEach((a, i) => {
      assert.ok(Math.abs(a.probabilityOfDefault - vectors[i]!.challengerProbabilityOfDefault) < 1e-5, `${a.accountId}`);
      assert.equal(a.model.version, '2.0.0-scorecard');
    });
    const late = await gql(gw.url, CreditAssessmentsDocument, { accounts: [sampleAccount(0)] });
    assert.ok(
      late.body.data!.creditAssessments[0]!.reasons.some((r) => /DELINQUENCY|DELAY/.test(r.code)),
      'a late payer is told why',
    );
  });
});
