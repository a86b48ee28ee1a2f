import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parse, type GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { complexityInput } from '../../src/graphql/complexity-variables.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';
import { DOMAINS } from '../../src/domains/index.js';
import { REPO_ROOT } from '../../src/platform/config.js';

const estimators = [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })];
const example = (name: string) => ({
  query: readFileSync(path.join(REPO_ROOT, 'examples', `${name}.graphql`), 'utf8'),
  variables: JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', `${name}.variables.json`), 'utf8')) as Record<
    string,
    unknown
  >,
});
const account = {
  creditLimit: 1000,
  age: 30,
  education: 'UNIVERSITY',
  repaymentStatus: [0, 0, 0, 0, 0, 0],
  billAmounts: [1, 1, 1, 1, 1, 1],
  paymentAmounts: [1, 1, 1, 1, 1, 1],
};

describe('complexity from the shape of the variables', () => {
  let schema: GraphQLSchema;
  before(async () => {
    schema = await buildGatewaySchema(DOMAINS);
  });

  const full = (query: string, variables: Record<string, unknown>, operationName?: string) =>
    getComplexity({ schema, query: parse(query), variables, operationName, estimators });
  const shaped = (query: string, variables: Record<string, unknown>, operationName?: string) => {
    const input = complexityInput(schema, parse(query), operationName, variables);
    return getComplexity({ schema, query: input.document, variables: input.variables, operationName, estimators });
  };

  it('costs every example request exactly what its fully coerced variables cost', () => {
    for (const name of ['credit', 'forecast', 'news-sentiment', 'sentiment']) {
      const { query, variables } = example(name);
      assert.equal(shaped(query, variables), full(query, variables), name);
    }
  });

  it('keeps list lengths, a single object standing for a list of one, and scalar limits', () => {
    const credit = 'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } }';
    const thousand = Array.from({ length: 1000 }, () => account);
    assert.equal(shaped(credit, { a: thousand }), full(credit, { a: thousand }));
    assert.equal(shaped(credit, { a: thousand }), 1001);
    assert.equal(shaped(credit, { a: account }), full(credit, { a: account }));
    const history = 'query($l:Int){ creditDecisions(limit:$l){ id } }';
    assert.equal(shaped(history, { l: 1000 }), full(history, { l: 1000 }));
  });

  it('shapes the variables of the operation the request names, in a document of several', () => {
    const query = `query One($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } }
                   query Two($t:[String!]!){ sentiment(texts:$t){ label } }`;
    assert.equal(shaped(query, { a: [account, account] }, 'One'), 3);
    assert.equal(shaped(query, { t: ['a', 'b'] }, 'Two'), full(query, { t: ['a', 'b'] }, 'Two'));
  });

  it('coerces nothing inside an input object: what execution will refuse is not refused here', () => {
    const credit = 'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } }';
    assert.throws(() => full(credit, { a: [{ age: 'old' }] }));
    assert.equal(shaped(credit, { a: [{ age: 'old' }] }), 2);
  });

  it("still refuses a missing or null required list, as the caller's error", () => {
    const credit = 'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ score } }';
    assert.throws(() => shaped(credit, {}), /a/);
    assert.throws(() => shaped(credit, { a: null }), /a/);
  });

  it('leaves a variable with a default value as declared', () => {
    const query =
      'query($a:[CardAccountInput!]! = [{creditLimit:1000, age:30, education:UNIVERSITY, repaymentStatus:[0,0,0,0,0,0], billAmounts:[1,1,1,1,1,1], paymentAmounts:[1,1,1,1,1,1]}]){ creditAssessments(accounts:$a){ score } }';
    const document = parse(query);
    assert.equal(complexityInput(schema, document, undefined, {}).document, document);
    assert.equal(shaped(query, {}), full(query, {}));
    assert.equal(shaped(query, {}), 2);
  });
});
