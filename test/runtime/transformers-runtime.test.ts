import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupByLength } from '../../src/runtime/transformers-runtime.js';

describe('groupByLength', () => {
  it('keeps every index exactly once', () => {
    const texts = Array.from({ length: 50 }, (_, i) => 'x'.repeat((i * 37) % 300 + 1));
    const groups = groupByLength(texts);
    assert.deepEqual(groups.flat().sort((a, b) => a - b), texts.map((_, i) => i));
  });

  it('separates short texts from much longer ones once a group is big enough', () => {
    const texts = [...new Array(10).fill('short text'), ...new Array(10).fill('a long text '.repeat(40))];
    const groups = groupByLength(texts);
    assert.equal(groups.length, 2);
    assert.ok(groups[0]!.every((i) => i < 10));
  });

  it('does not split small batches', () => {
    assert.equal(groupByLength(['a', 'b'.repeat(500), 'c']).length, 1);
  });
});
