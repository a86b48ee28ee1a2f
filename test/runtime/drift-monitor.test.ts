import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_DRIFT_MIN_OBSERVATIONS, REPO_ROOT } from '../../src/platform/config.js';
import {
  DriftMonitor,
  driftStatus,
  psi,
  type BinProfile,
  type DriftBaseline,
} from '../../src/runtime/drift-monitor.js';
import { seededRandom } from '../../src/platform/seeded-random.js';

const baseline = {
  features: [{ name: 'x', edges: [1, 2, 3], expected: [0.25, 0.25, 0.25, 0.25] }],
  output: { name: 'y', edges: [0.5], expected: [0.5, 0.5] },
};

describe('PSI', () => {
  it('is 0 for identical shares and grows with the shift', () => {
    assert.equal(psi([0.5, 0.5], [0.5, 0.5]), 0);
    const small = psi([0.25, 0.25, 0.25, 0.25], [0.3, 0.25, 0.25, 0.2]);
    const large = psi([0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]);
    assert.ok(small > 0 && small < 0.1 && large > 0.25);
    assert.ok(Number.isFinite(psi([0.5, 0.5], [1, 0])), 'empty bins are floored, not infinite');
  });
  it('reads as STABLE < 0.1 <= WATCH < 0.25 <= DRIFT', () => {
    assert.deepEqual([0, 0.0999, 0.1, 0.2499, 0.25, 3].map(driftStatus), [
      'STABLE',
      'STABLE',
      'WATCH',
      'WATCH',
      'DRIFT',
      'DRIFT',
    ]);
  });
});

describe('DriftMonitor', () => {
  it('is stable for traffic like the baseline and drifts when inputs shift', () => {
    const m = new DriftMonitor(baseline, 400);
    for (let i = 0; i < 400; i++) m.observe([(i % 4) + 0.5], i % 2 ? 0.2 : 0.8);
    const same = m.report();
    assert.equal(same.status, 'STABLE');
    assert.ok(same.features[0]!.psi < 1e-9);
    for (let i = 0; i < 400; i++) m.observe([10], i % 2 ? 0.2 : 0.8); // the window now holds only shifted inputs
    const shifted = m.report();
    assert.equal(shifted.features[0]!.status, 'DRIFT');
    assert.equal(shifted.output.status, 'STABLE');
    assert.equal(shifted.status, 'DRIFT');
    assert.equal(shifted.observations, 800);
    assert.equal(shifted.windowSize, 400);
  });
  it('puts values on an edge in the upper bin, as training did', () => {
    const m = new DriftMonitor(
      { features: [{ name: 'x', edges: [1], expected: [0, 1] }], output: baseline.output },
      10,
    );
    for (let i = 0; i < 10; i++) m.observe([1], 0.8);
    assert.ok(m.report().features[0]!.psi < 1e-9);
  });
});

/** A value in a bin drawn with the baseline's own shares: what traffic without any drift looks like. */
function drawFrom(profile: BinProfile, random: () => number): number {
  let u = random();
  let bin = 0;
  while (bin < profile.expected.length - 1 && u >= profile.expected[bin]!) u -= profile.expected[bin++]!;
  return bin === 0 ? profile.edges[0]! - 1 : profile.edges[bin - 1]!; // an edge belongs to the bin above it
}

/** Share of windows of n observations, drawn from the baseline itself, whose overall status is STABLE. */
function stableShare(baseline: DriftBaseline, n: number, trials: number, random: () => number): number {
  let stable = 0;
  for (let t = 0; t < trials; t++) {
    const m = new DriftMonitor(baseline, n, n);
    for (let i = 0; i < n; i++)
      m.observe(
        baseline.features.map((f) => drawFrom(f, random)),
        drawFrom(baseline.output, random),
      );
    if (m.report().status === 'STABLE') stable++;
  }
  return stable / trials;
}

describe('the minimum number of observations', () => {
  it('reads INSUFFICIENT_DATA below it, with the observation count next to every PSI', () => {
    const m = new DriftMonitor(baseline, 400, 100);
    for (let i = 0; i < 3; i++) m.observe([10], 0.8);
    const few = m.report();
    assert.equal(few.status, 'INSUFFICIENT_DATA');
    assert.equal(few.minObservations, 100);
    assert.deepEqual(
      [...few.features, few.output].map((q) => [q.status, q.observations]),
      [
        ['INSUFFICIENT_DATA', 3],
        ['INSUFFICIENT_DATA', 3],
      ],
    );
    assert.ok(few.features[0]!.psi > 1, 'the PSI is still reported, but not read as drift');
    for (let i = 0; i < 97; i++) m.observe([10], 0.8);
    assert.equal(m.report().status, 'DRIFT');
  });

  for (const model of ['credit-gbt', 'sentiment-bert', 'forecast-qnn']) {
    it(`${model}: traffic drawn from its own baseline is STABLE in >= 95 % of windows of ${DEFAULT_DRIFT_MIN_OBSERVATIONS}, and often not in windows of 30`, () => {
      const baseline = JSON.parse(
        readFileSync(path.join(REPO_ROOT, 'models', model, 'baseline.json'), 'utf8'),
      ) as DriftBaseline;
      const random = seededRandom(7);
      const atDefault = stableShare(baseline, DEFAULT_DRIFT_MIN_OBSERVATIONS, 100, random);
      assert.ok(atDefault >= 0.95, `STABLE in ${atDefault} of windows of ${DEFAULT_DRIFT_MIN_OBSERVATIONS}`);
      if (baseline.features.length > 1) {
        const small = stableShare(baseline, 30, 100, random);
        assert.ok(
          small < 0.5,
          `with 30 observations a model of ${baseline.features.length + 1} quantities raised false alarms in only ${1 - small} of windows`,
        );
      }
    });
  }
});
