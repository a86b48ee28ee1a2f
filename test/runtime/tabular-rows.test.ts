import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packRows, unpackOutputs } from '../../src/runtime/tabular-rows.js';

describe('packRows / unpackOutputs', () => {
  it('packs the valid rows in order and answers each bad row with its own error', () => {
    const rows = [
      Float32Array.of(1, 2),
      Float32Array.of(3),
      Float32Array.of(4, Number.NaN),
      Float32Array.of(5, 6),
      Float32Array.of(Infinity, 0),
    ];
    const packed = packRows(rows, 2);
    assert.deepEqual([...packed.data], [1, 2, 5, 6]);
    assert.deepEqual(packed.valid, [0, 3]);
    assert.match((packed.results[1] as Error).message, /expected 2 features, got 1/);
    assert.match((packed.results[2] as Error).message, /finite/);
    assert.match((packed.results[4] as Error).message, /finite/);
  });

  it('splits each output back per row as views of the batch buffer', () => {
    const packed = packRows([Float32Array.of(1, 2), Float32Array.of(0), Float32Array.of(3, 4)], 2);
    const probability = Float32Array.of(0.1, 0.9);
    const contributions = Float32Array.of(1, 2, 3, 4, 5, 6);
    const results = unpackOutputs(packed, { probability, contributions });
    assert.ok(results[1] instanceof Error);
    const [first, , last] = results as Array<Record<string, Float32Array>>;
    assert.deepEqual([...first!.probability!], [Math.fround(0.1)]);
    assert.deepEqual([...first!.contributions!], [1, 2, 3]);
    assert.deepEqual([...last!.probability!], [Math.fround(0.9)]);
    assert.deepEqual([...last!.contributions!], [4, 5, 6]);
    assert.equal(last!.contributions!.buffer, contributions.buffer);
  });

  it('an all-invalid batch packs nothing', () => {
    const packed = packRows([Float32Array.of(Number.NaN)], 1);
    assert.equal(packed.data.length, 0);
    assert.deepEqual(packed.valid, []);
    assert.ok(packed.results[0] instanceof Error);
  });
});
