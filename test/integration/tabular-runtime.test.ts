import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { CreditAssessmentsDocument, type CardAccountInput } from '../generated/graphql.js';
import { sampleAccount } from '../support/accounts.js';
import { codes, gql, startTestGateway, type GraphQLResponse } from '../support/gateway.js';

const vectors = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'models', 'credit-gbt', 'test_vectors.json'), 'utf8'),
) as Array<{ account: CardAccountInput }>;
const example = (name: string) => ({
  query: readFileSync(path.join(REPO_ROOT, 'examples', `${name}.graphql`), 'utf8'),
  variables: JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', `${name}.variables.json`), 'utf8')) as Record<
    string,
    unknown
  >,
});

describe('the tabular models in a worker thread (TABULAR_RUNTIME=worker, the default) or on the event loop', () => {
  let inWorker: Gateway;
  let onEventLoop: Gateway;
  before(async () => {
    const env = { MODELS: 'credit-gbt,forecast-qnn' };
    [inWorker, onEventLoop] = await Promise.all([
      startTestGateway(env),
      startTestGateway({ ...env, TABULAR_RUNTIME: 'event-loop' }),
    ]);
  });
  after(() => Promise.all([inWorker.stop(), onEventLoop.stop()]));

  it('answers credit and forecast requests alike over HTTP, concurrent batches and a request with an invalid account included', async () => {
    const accounts = [...vectors.map((v) => v.account), ...Array.from({ length: 300 }, (_, i) => sampleAccount(i))];
    const bad = { ...sampleAccount(999), accountId: 'bad', repaymentStatus: [99, 0, 0, 0, 0, 0] };
    const bodies = [
      { query: CreditAssessmentsDocument, variables: { accounts } },
      { query: CreditAssessmentsDocument, variables: { accounts: [bad, ...accounts.slice(0, 5)] } },
    ];
    const answers = async (url: string) => {
      const credit = await Promise.all([...bodies, ...bodies].map((b) => gql(url, b.query, b.variables)));
      const forecast = example('forecast');
      const forecasts = await Promise.all([1, 2, 3].map(() => gql(url, forecast.query, forecast.variables)));
      return [...credit, ...forecasts].map((r) => ({ status: r.status, body: r.body }));
    };
    const [a, b] = await Promise.all([answers(inWorker.url), answers(onEventLoop.url)]);
    assert.equal(a[0]!.body.errors, undefined);
    assert.equal((a[0]!.body.data as { creditAssessments: unknown[] }).creditAssessments.length, accounts.length);
    assert.deepEqual(codes(a[1]! as GraphQLResponse<unknown>), ['BAD_USER_INPUT']);
    assert.equal(a.at(-1)!.body.errors, undefined);
    assert.deepEqual(a, b);
  });

  it('refuses an unknown setting at start-up, naming it', () => {
    assert.throws(() => loadConfig({ TABULAR_RUNTIME: 'gpu' }), /TABULAR_RUNTIME/);
  });
});
