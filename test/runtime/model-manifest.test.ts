import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import { readManifest, readManifests, rowsInput } from '../../src/runtime/model-manifest.js';

const shipped = readManifests(path.join(REPO_ROOT, 'models'));

describe('manifest tensors', () => {
  it('the shipped manifests parse to typed tensors: the tabular models give their input name and width, the text models none', () => {
    assert.deepEqual(
      shipped.map((m) => [m.name, rowsInput(m)]),
      [
        ['credit-gbt', { name: 'features', width: 37 }],
        ['forecast-qnn', { name: 'features', width: 24 }],
        ['sentiment-bert', undefined],
        ['sentiment-entity', undefined],
      ],
    );
    const forecast = shipped.find((m) => m.name === 'forecast-qnn')!;
    assert.deepEqual(
      forecast.outputs.map((o) => [o.name, o.shape]),
      [['quantiles', [-1, 8, 7]]],
    );
  });

  it('a tensor without a name, or with a shape that is not whole numbers, is refused naming the field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'manifest-'));
    try {
      const base = {
        name: 'm',
        task: 'credit',
        version: '1',
        runtime: 'onnx',
        artifact: 'model.onnx',
        batching: { maxBatchSize: 1, maxWaitMs: 0, maxQueue: 1 },
      };
      const cases: Array<[unknown, RegExp]> = [
        [{ inputs: [{ shape: [-1, 3] }] }, /inputs\.0\.name: /],
        [{ inputs: [{ name: 'x', shape: [-1, 'wide'] }] }, /inputs\.0\.shape\.1: /],
        [{ outputs: [{ name: 'p', shape: [-1, 0.5] }] }, /outputs\.0\.shape\.1: /],
        [{ inputs: [{ name: 'x', shape: [-2, 3] }] }, /inputs\.0\.shape\.0: /],
      ];
      assert.equal(cases.length, 4);
      for (const [tensors, message] of cases) {
        writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...base, ...(tensors as object) }));
        assert.throws(() => readManifest(dir), message);
      }
      writeFileSync(
        path.join(dir, 'manifest.json'),
        JSON.stringify({ ...base, inputs: [{ name: 'x', shape: [-1, 3], description: 'kept' }] }),
      );
      const manifest = readManifest(dir);
      assert.deepEqual(manifest.inputs, [{ name: 'x', shape: [-1, 3], description: 'kept' }]);
      assert.deepEqual(rowsInput(manifest), { name: 'x', width: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
