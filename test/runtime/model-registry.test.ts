import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { GatewayError, GatewayErrorCode } from '../../src/platform/errors.js';
import type { ModelRegistry } from '../../src/runtime/model-registry.js';
import { modelsFolder } from '../support/model-folders.js';
import { tabularRegistry } from '../support/tabular-registry.js';

const code = (error: unknown) => (error instanceof GatewayError ? error.code : undefined);

describe('ModelRegistry: typed handles per task, shadows through ShadowControl', () => {
  let dir: string;
  let registry: ModelRegistry;
  before(async () => {
    dir = modelsFolder('registry-', ['credit-gbt', 'forecast-qnn']);
    registry = tabularRegistry(dir);
    await registry.loadAll();
  });
  after(async () => {
    await registry.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rows handle on a rows task runs its model: one named output tensor per row', async () => {
    const credit = registry.rowsModel('credit-gbt');
    assert.equal(credit.version, '2.1.0');
    const out = await credit.inferMany([new Float32Array(37), new Float32Array(36)]);
    assert.equal(out.length, 2);
    const [first, second] = out;
    assert.ok(!(first instanceof Error) && first !== undefined);
    assert.equal(first.probability!.length, 1);
    assert.ok(first.probability![0]! > 0 && first.probability![0]! < 1, `a probability, got ${first.probability![0]}`);
    assert.match(String(second), /expected 37 features, got 36/);
  });

  it('a handle of the other input kind is refused with MODEL_UNAVAILABLE, saying what was asked and what the task takes', () => {
    assert.throws(
      () => registry.textModel('credit-gbt'),
      (e) =>
        code(e) === GatewayErrorCode.MODEL_UNAVAILABLE &&
        /model credit-gbt is unavailable: a text model was asked for, but it serves task credit, which takes rows/.test(
          (e as Error).message,
        ),
    );
    assert.throws(
      () => registry.rowsModel('sentiment-bert'),
      (e) => code(e) === GatewayErrorCode.MODEL_UNAVAILABLE && /no such model is configured/.test((e as Error).message),
    );
  });

  it('a shadow started through registry.shadows rides on the active handle and the snapshot until stopped', async () => {
    await assert.rejects(
      registry.shadows.set('forecast-qnn', '0.9.0'),
      /shadow mode is available for credit models, not forecast/,
    );
    await assert.rejects(registry.shadows.set('credit-gbt', '9.9.9'), (e) => code(e) === GatewayErrorCode.NOT_FOUND);
    const started = await registry.shadows.set('credit-gbt', '2.0.0');
    assert.deepEqual(
      { ...started, since: undefined },
      { version: '2.0.0', since: undefined, compared: 0, failed: 0, agreementRate: null, meanAbsoluteDifference: null },
    );
    const shadow = registry.rowsModel('credit-gbt').shadow;
    assert.equal(shadow?.version, '2.0.0');
    const [answer] = await shadow.inferMany([new Float32Array(37)]);
    assert.ok(answer !== undefined && !(answer instanceof Error));
    shadow.record([{ agreed: true, difference: 0.25 }]);
    assert.deepEqual(
      { ...registry.shadows.report('credit-gbt'), since: undefined },
      { version: '2.0.0', since: undefined, compared: 1, failed: 0, agreementRate: 1, meanAbsoluteDifference: 0.25 },
    );
    assert.equal(registry.get('credit-gbt')?.shadowVersion, '2.0.0');
    assert.equal(await registry.shadows.set('credit-gbt', null), null);
    assert.equal(registry.rowsModel('credit-gbt').shadow, undefined);
    assert.equal(registry.get('credit-gbt')?.shadowVersion, undefined);
  });
});
