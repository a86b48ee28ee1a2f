import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aucScore, brierScore, ksStatistic } from '../../../src/domains/credit/credit.evaluation.js';

// Reference values from scikit-learn (roc_auc_score, max(tpr - fpr) of roc_curve, brier_score_loss) on the same vectors.
const labels = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0];
const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9, 0.05, 0.6];

describe('credit model evaluation', () => {
  it('agrees with scikit-learn, ties included', () => {
    assert.ok(Math.abs(aucScore(labels, scores) - 0.6) < 1e-12);
    assert.ok(Math.abs(ksStatistic(labels, scores) - 0.4) < 1e-12);
    assert.ok(Math.abs(brierScore(labels, scores) - 0.2465) < 1e-12);
  });

  it('reads perfect, reversed and uninformative rankings', () => {
    assert.equal(aucScore([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]), 1);
    assert.equal(ksStatistic([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]), 1);
    assert.equal(aucScore([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]), 0);
    assert.equal(aucScore([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5);
    assert.equal(ksStatistic([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0);
    assert.equal(brierScore([0, 1], [0, 1]), 0);
  });

  it('refuses inputs it cannot score', () => {
    assert.throws(() => aucScore([0, 1], [0.5]), /as many labels as scores/);
    assert.throws(() => aucScore([1, 1], [0.2, 0.3]), /both outcomes/);
    assert.throws(() => brierScore([0, 2], [0.2, 0.3]), /0 or 1, got 2 at 1/);
  });
});
