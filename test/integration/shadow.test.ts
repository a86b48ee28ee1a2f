import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import {
  CreditAssessmentsDocument,
  SetShadowModelVersionDocument,
  ShadowComparisonDocument,
} from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { addVersion, modelsFolder, setTopVersion } from '../support/model-folders.js';

/**
 * credit-gbt 1.0.0 on top with its shipped challenger (2.0.0-scorecard), a copy of itself as 1.1.0 and
 * a 9.9.9 that is not a model; and forecast-qnn.
 */
function fixture(): string {
  const dir = modelsFolder('shadow-', ['credit-gbt', 'forecast-qnn']);
  const root = path.join(dir, 'credit-gbt');
  setTopVersion(root, '1.0.0');
  addVersion(root, '1.1.0');
  writeFileSync(path.join(addVersion(root, '9.9.9'), 'model.onnx'), 'not a model');
  return dir;
}

describe('shadow versions', () => {
  let gw: Gateway;
  let dir: string;
  before(async () => {
    dir = fixture();
    gw = await startTestGateway({
      MODELS_DIR: dir,
      METRICS_TOKEN: 'metrics-token-0123456789',
      ALLOW_OPEN_ADMIN: 'true',
    });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const accounts = (from: number, n: number) => Array.from({ length: n }, (_, i) => sampleAccount(from + i));
  const comparison = async () => (await gql(gw.url, ShadowComparisonDocument, { name: 'credit-gbt' })).body.data!;
  /** The shadow compares after each response is sent: wait until it has seen `n` accounts. */
  const compared = async (n: number) => {
    for (let i = 0; i < 100; i++) {
      const shadow = (await comparison()).modelMonitoring!.shadow!;
      if (shadow.compared + shadow.failed >= n) return shadow;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`the shadow never reached ${n} accounts`);
  };

  it('a copy of the same model agrees on every account; callers only ever see the active version', async () => {
    const started = await gql(gw.url, SetShadowModelVersionDocument, { name: 'credit-gbt', version: '1.1.0' });
    assert.deepEqual(started.body.data!.setShadowModelVersion, {
      version: '1.1.0',
      compared: 0,
      failed: 0,
      agreementRate: null,
      meanAbsoluteDifference: null,
    });
    assert.deepEqual((await comparison()).model, { version: '1.0.0', shadowVersion: '1.1.0' });
    for (let r = 0; r < 3; r++) {
      const res = await gql(gw.url, CreditAssessmentsDocument, { accounts: accounts(r * 50, 50) });
      assert.ok(res.body.data!.creditAssessments.every((a) => a.model.version === '1.0.0'));
    }
    const shadow = await compared(150);
    assert.deepEqual(
      { ...shadow, since: undefined },
      { version: '1.1.0', since: undefined, compared: 150, failed: 0, agreementRate: 1, meanAbsoluteDifference: 0 },
    );
    const scrape = await (
      await fetch(gw.url.replace('/graphql', '/metrics'), {
        headers: { authorization: 'Bearer metrics-token-0123456789' },
      })
    ).text();
    assert.match(scrape, /gateway_shadow_compared\{model="credit-gbt",version="1\.1\.0"\} 150/);
    assert.match(scrape, /gateway_shadow_agreement_rate\{model="credit-gbt",version="1\.1\.0"\} 1/);
  });

  it('the shipped challenger is measured against the champion, and replaces the previous shadow', async (t) => {
    await gql(gw.url, SetShadowModelVersionDocument, { name: 'credit-gbt', version: '2.0.0-scorecard' });
    const res = await gql(gw.url, CreditAssessmentsDocument, { accounts: accounts(1000, 140) });
    assert.ok(res.body.data!.creditAssessments.every((a) => a.model.version === '1.0.0'));
    const shadow = await compared(140);
    assert.equal(shadow.version, '2.0.0-scorecard');
    assert.equal(shadow.compared, 140);
    t.diagnostic(
      `challenger in shadow over 140 accounts: agreement ${shadow.agreementRate}, mean |ΔPD| ${shadow.meanAbsoluteDifference}`,
    );
    assert.ok(shadow.meanAbsoluteDifference! > 0.01, `mean |ΔPD| ${shadow.meanAbsoluteDifference}`);
    assert.ok(shadow.agreementRate! < 1, `agreement ${shadow.agreementRate}`);
  });

  it('refuses the active version, unknown and broken versions, and models of other tasks; the shadow in place stays', async () => {
    const refusal = async (name: string, version: string) =>
      gql(gw.url, SetShadowModelVersionDocument, { name, version });
    const active = await refusal('credit-gbt', '1.0.0');
    assert.deepEqual(codes(active), ['BAD_USER_INPUT']);
    assert.match(active.body.errors![0]!.message, /version 1\.0\.0 is the active version of credit-gbt/);
    assert.deepEqual(codes(await refusal('credit-gbt', '7.0.0')), ['NOT_FOUND']);
    assert.deepEqual(codes(await refusal('nope', '1.0.0')), ['NOT_FOUND']);
    const broken = await refusal('credit-gbt', '9.9.9');
    assert.deepEqual(codes(broken), ['MODEL_UNAVAILABLE']);
    assert.match(broken.body.errors![0]!.message, /shadow version 9\.9\.9 was refused/);
    const forecast = await refusal('forecast-qnn', '1.0.0');
    assert.deepEqual(codes(forecast), ['BAD_USER_INPUT']);
    assert.match(forecast.body.errors![0]!.message, /shadow mode is available for credit models, not forecast/);
    assert.equal((await comparison()).model!.shadowVersion, '2.0.0-scorecard');
  });

  it('stops on a null version', async () => {
    const stopped = await gql(gw.url, SetShadowModelVersionDocument, { name: 'credit-gbt', version: null });
    assert.equal(stopped.body.data!.setShadowModelVersion, null);
    const now = await comparison();
    assert.equal(now.model!.shadowVersion, null);
    assert.equal(now.modelMonitoring!.shadow, null);
    const res = await gql(gw.url, CreditAssessmentsDocument, { accounts: accounts(0, 5) });
    assert.equal(res.body.data!.creditAssessments.length, 5);
  });
});
