import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/server/gateway.js';
import { CreditAssessmentsDocument, ModelMonitoringDocument, SentimentDocument } from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { gql, startTestGateway } from '../support/gateway.js';

describe('drift monitoring over HTTP', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startTestGateway({
      MODELS: 'credit-gbt,sentiment-bert',
      DRIFT_WINDOW: '200',
      DRIFT_MIN_OBSERVATIONS: '50',
    });
  });
  after(() => gw.stop());

  const monitoring = async (name: string) =>
    (await gql(gw.url, ModelMonitoringDocument, { name })).body.data!.modelMonitoring;

  it('a few observations read INSUFFICIENT_DATA, never DRIFT, however far they are from the training data', async () => {
    const odd = Array.from({ length: 3 }, (_, i) => ({ ...sampleAccount(i), creditLimit: 5_000_000, age: 95 }));
    await gql(gw.url, CreditAssessmentsDocument, { accounts: odd });
    const m = (await monitoring('credit-gbt'))!;
    assert.equal(m.status, 'INSUFFICIENT_DATA');
    assert.equal(m.minObservations, 50);
    assert.ok(m.features.every((f) => f.status === 'INSUFFICIENT_DATA' && f.observations === 3));
    const metrics = await (await fetch(gw.url.replace('/graphql', '/metrics'))).text();
    assert.doesNotMatch(metrics, /^gateway_model_psi\{model="credit-gbt"/m);
  });

  it('credit: accounts unlike the training data (huge limits, old holders) show DRIFT on those features', async () => {
    const shifted = Array.from({ length: 200 }, (_, i) => ({ ...sampleAccount(i), creditLimit: 5_000_000, age: 95 }));
    await gql(gw.url, CreditAssessmentsDocument, { accounts: shifted });
    const m = (await monitoring('credit-gbt'))!;
    assert.equal(m.windowSize, 200);
    assert.equal(m.observations, 203);
    assert.equal(m.status, 'DRIFT');
    const byName = Object.fromEntries(m.features.map((f) => [f.name, f]));
    assert.equal(byName.credit_limit!.status, 'DRIFT');
    assert.equal(byName.age!.status, 'DRIFT');
    assert.ok(byName.credit_limit!.psi > 1);
    assert.equal(m.output.name, 'probability_of_default');
    const metrics = await (await fetch(gw.url.replace('/graphql', '/metrics'))).text();
    assert.match(metrics, /^gateway_model_psi\{model="credit-gbt",quantity="credit_limit"\} \d/m);
  });

  it('sentiment: much longer texts than the training tweets drift on word count', async () => {
    const long = Array.from(
      { length: 60 },
      (_, i) => `Quarterly report ${i}: ${'revenue grew while margins held steady '.repeat(8)}`,
    );
    await gql(gw.url, SentimentDocument, { texts: long });
    const m = (await monitoring('sentiment-bert'))!;
    assert.equal(m.features[0]!.name, 'word_count');
    assert.equal(m.features[0]!.status, 'DRIFT');
    assert.equal(m.output.name, 'net_sentiment');
  });

  it('is null for an unknown model', async () => {
    assert.equal(await monitoring('nope'), null);
  });
});
