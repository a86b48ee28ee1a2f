import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { buildSubgraph, printSubgraph } from '../../src/graphql/federation.js';
import { buildGatewaySchema, printSortedSchema } from '../../src/graphql/schema.js';
import { DOMAINS } from '../../src/domains/index.js';
import { REPO_ROOT } from '../../src/platform/config.js';

const committed = (name: string) => readFileSync(path.join(REPO_ROOT, 'schema', name), 'utf8');

describe('schema/schema.graphql and schema/subgraph.graphql', () => {
  it('are what the code emits (run `npm run schema` after changing the API)', async () => {
    const schema = await buildGatewaySchema(DOMAINS);
    assert.equal(printSortedSchema(schema), committed('schema.graphql'));
    assert.equal(printSubgraph(buildSubgraph(schema)), committed('subgraph.graphql'));
  });

  it('the subgraph composes into a Federation 2 supergraph, with Ticker and CreditAccount as entities', () => {
    const result = composeServices([
      { name: 'intel', typeDefs: parse(committed('subgraph.graphql')), url: 'http://intel/graphql' },
    ]);
    assert.deepEqual(result.errors ?? [], []);
    assert.match(result.supergraphSdl!, /type Ticker\s+@join__type\(graph: INTEL, key: "symbol"\)/);
    assert.match(result.supergraphSdl!, /type CreditAccount\s+@join__type\(graph: INTEL, key: "accountId"\)/);
  });

  it('deploy/supergraph.graphql is the subgraph composed for compose.yaml (run `npm run supergraph` after changing the API)', () => {
    const result = composeServices([
      { name: 'intel', typeDefs: parse(committed('subgraph.graphql')), url: 'http://balancer:8080/graphql' },
    ]);
    assert.equal(
      `${result.supergraphSdl!.trim()}\n`,
      readFileSync(path.join(REPO_ROOT, 'deploy', 'supergraph.graphql'), 'utf8'),
    );
  });

  it("keeps every field's query cost: a two-account request costs 3 as a subgraph too", async () => {
    const { getComplexity, fieldExtensionsEstimator, simpleEstimator } = await import('graphql-query-complexity');
    const plain = await buildGatewaySchema(DOMAINS);
    const query = parse('query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } }');
    const account = {
      creditLimit: 1000,
      age: 30,
      education: 'UNIVERSITY',
      repaymentStatus: [0, 0, 0, 0, 0, 0],
      billAmounts: [1, 1, 1, 1, 1, 1],
      paymentAmounts: [1, 1, 1, 1, 1, 1],
    };
    const cost = (schema: typeof plain) =>
      getComplexity({
        schema,
        query,
        variables: { a: [account, account] },
        estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
      });
    assert.equal(cost(plain), 3);
    assert.equal(cost(buildSubgraph(plain)), 3);
  });
});
