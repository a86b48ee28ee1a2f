import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSync } from 'class-validator';
import { CardAccountInput } from '../../src/domains/credit/credit.inputs.js';
import { validationProblems } from '../../src/graphql/validate-input.js';
import { seededRandom } from '../../src/platform/seeded-random.js';
import { sampleAccount } from '../support/accounts.js';

// Values at and around every bound of CardAccountInput, and of the wrong kind.
const EDGES: unknown[] = [
  null, undefined, Number.NaN, Infinity, -Infinity, 0, -0, 0.5, 1, 0.999, 17, 18, 18.5, 100, 100.5, 101, 1e10, 1e10 + 1, -1e10, -1e10 - 1,
  -3, -2, 9, 10, 1.5, '5', '', true, {}, [], 'x'.repeat(128), 'x'.repeat(129),
];
const LISTS = (random: () => number): unknown[] => [
  [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], new Set([1, 2, 3, 4, 5, 6]),
  Array.from({ length: 6 }, () => EDGES[Math.floor(random() * EDGES.length)]), [-2, -1, 0, 1, 9, 3], [null, 0, 0, 0, 0, 0],
];
const FIELDS = ['accountId', 'creditLimit', 'age', 'education', 'repaymentStatus', 'billAmounts', 'paymentAmounts'] as const;

describe('input validation', () => {
  it('accepts exactly what class-validator accepts, on valid accounts and on thousands of damaged ones', () => {
    const random = seededRandom(7);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const account = Object.assign(new CardAccountInput(), sampleAccount(i)) as unknown as Record<string, unknown>;
      // Most cases damage one to three fields; one in five stays valid.
      const damaged = i % 5 === 0 ? 0 : 1 + Math.floor(random() * 3);
      for (let d = 0; d < damaged; d++) {
        const field = FIELDS[Math.floor(random() * FIELDS.length)]!;
        const pool = random() < 0.5 ? LISTS(random) : EDGES;
        account[field] = pool[Math.floor(random() * pool.length)];
      }
      const expected = validateSync(account, { forbidUnknownValues: false, skipMissingProperties: false }).length === 0;
      const problems = validationProblems(account, 'accounts[0]');
      assert.equal(problems.length === 0, expected, `case ${i}: ${JSON.stringify(account)} -> ${problems.join('; ')}`);
      if (expected) accepted++;
      else rejected++;
    }
    assert.ok(accepted > 1000 && rejected > 2500, `accepted ${accepted}, rejected ${rejected}`);
  });

  it('names the field, the index and the value in what it rejects', () => {
    const account = Object.assign(new CardAccountInput(), sampleAccount(1), { age: 17 });
    assert.deepEqual(validationProblems(account, 'accounts[3]'), ['accounts[3].age: must not be less than 18, got 17']);
  });
});
