import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DriftMonitor, driftStatus, psi } from '../../src/runtime/drift-monitor.js';

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
    assert.deepEqual([0, 0.0999, 0.1, 0.2499, 0.25, 3].map(driftStatus), ['STABLE', 'STABLE', 'WATCH', 'WATCH', 'DRIFT', 'DRIFT']);
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
    const m = new DriftMonitor({ features: [{ name: 'x', edges: [1], expected: [0, 1] }], output: baseline.output }, 10);
    for (let i = 0; i < 10; i++) m.observe([1], 0.8);
    assert.ok(m.report().features[0]!.psi < 1e-9);
  });
});
