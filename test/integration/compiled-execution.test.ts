import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { gql, startTestGateway } from '../support/gateway.js';

const TOKEN = 'metrics-token-0123456789';
const example = (name: string) => ({
  query: readFileSync(path.join(REPO_ROOT, 'examples', `${name}.graphql`), 'utf8'),
  variables: JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', `${name}.variables.json`), 'utf8')) as Record<
    string,
    unknown
  >,
});

/** Each response of a request sent three times: graphql-js runs it first, the compiled query after. */
async function thrice(url: string, query: string, variables: unknown) {
  const responses = [];
  for (let i = 0; i < 3; i++) {
    const r = await gql(url, query, variables);
    responses.push({ status: r.status, body: r.body });
  }
  return responses;
}

describe('queries compiled by graphql-jit (GRAPHQL_EXECUTOR=compiled, the default)', () => {
  let compiled: Gateway;
  let interpreted: Gateway;
  before(async () => {
    const env = { MODELS: 'credit-gbt,forecast-qnn', METRICS_TOKEN: TOKEN };
    [compiled, interpreted] = await Promise.all([
      startTestGateway(env),
      startTestGateway({ ...env, GRAPHQL_EXECUTOR: 'graphql-js' }),
    ]);
  });
  after(() => Promise.all([compiled.stop(), interpreted.stop()]));

  const executions = async (url: string) => {
    const text = await (
      await fetch(url.replace('/graphql', '/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    const read = (executor: string) =>
      Number(
        new RegExp(`^gateway_graphql_executions_total\\{executor="${executor}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0,
      );
    return { compiled: read('compiled'), graphqlJs: read('graphql-js') };
  };

  it('answers the examples as graphql-js does, compiling each document on its second use', async () => {
    const before = await executions(compiled.url);
    for (const name of ['credit', 'forecast']) {
      const { query, variables } = example(name);
      const [first, second, third] = await thrice(compiled.url, query, variables);
      assert.equal(first!.status, 200);
      assert.equal(first!.body.errors, undefined, name);
      assert.deepEqual(second, first, name);
      assert.deepEqual(third, first, name);
      assert.deepEqual((await thrice(interpreted.url, query, variables))[2], first, name);
    }
    const after = await executions(compiled.url);
    assert.equal(after.graphqlJs - before.graphqlJs, 2); // each document's first use
    assert.equal(after.compiled - before.compiled, 4);
    assert.deepEqual(await executions(interpreted.url), { compiled: 0, graphqlJs: 0 });
  });

  it('leaves an operation of more than 100 fields to graphql-js: compiling it would cost more than it saves', async () => {
    const large = `{ ${Array.from({ length: 51 }, (_, i) => `m${i}: models { name }`).join(' ')} }`;
    const before = await executions(compiled.url);
    const responses = await thrice(compiled.url, large, {});
    assert.equal(responses[0]!.body.errors, undefined);
    assert.deepEqual(responses[2], responses[0]);
    const after = await executions(compiled.url);
    assert.deepEqual(
      { compiled: after.compiled - before.compiled, graphqlJs: after.graphqlJs - before.graphqlJs },
      { compiled: 0, graphqlJs: 3 },
    );
  });

  it("gives a resolver's error, and a variable that does not coerce, as graphql-js does: same code, message, path and status", async () => {
    const credit = example('credit').query;
    const empty = await thrice(compiled.url, credit, { accounts: [] });
    assert.equal(empty[0]!.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.deepEqual(empty[2], empty[0]);
    assert.deepEqual((await thrice(interpreted.url, credit, { accounts: [] }))[2], empty[0]);

    const account = (example('credit').variables.accounts as Array<Record<string, unknown>>)[0]!;
    const badAge = { accounts: [account, { ...account, age: 'forty' }] };
    const coercion = await thrice(compiled.url, credit, badAge);
    assert.equal(coercion[0]!.status, 400);
    assert.equal(coercion[0]!.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(coercion[0]!.body.errors?.[0]?.extensions?.field, 'accounts[1].age');
    assert.deepEqual(coercion[2], coercion[0]);
    assert.deepEqual((await thrice(interpreted.url, credit, badAge))[2], coercion[0]);
  });

  it('propagates a failed non-null field as graphql-js does: the error at its path, and data null', async () => {
    const query = `query($a:[CardAccountInput!]!) {
      ok: creditAssessments(accounts: $a) { score }
      bad: marketForecast(input: { symbol: "NO_SUCH_SYMBOL", horizon: 5 }) { lastClose }
      missing: model(name: "no-such-model") { name }
    }`;
    const variables = { a: (example('credit').variables.accounts as unknown[]).slice(0, 2) };
    const responses = await thrice(compiled.url, query, variables);
    assert.equal(responses[0]!.body.data, null);
    assert.equal(responses[0]!.body.errors?.length, 1);
    assert.equal(responses[0]!.body.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.deepEqual(responses[0]!.body.errors?.[0]?.path, ['bad']);
    assert.deepEqual(responses[2], responses[0]);
    assert.deepEqual((await thrice(interpreted.url, query, variables))[2], responses[0]);
  });
});
