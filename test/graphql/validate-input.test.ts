import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSync } from 'class-validator';
import { CardAccountInput } from '../../src/domains/credit/credit.inputs.js';
import { ForecastInput, PricePointInput } from '../../src/domains/forecasting/forecast.inputs.js';
import { ArticleEntityInput, NewsArticleInput } from '../../src/domains/sentiment/sentiment.inputs.js';
import { validationProblems } from '../../src/graphql/validate-input.js';
import { seededRandom } from '../../src/platform/seeded-random.js';
import { sampleAccount } from '../support/accounts.js';

// Values at and around every bound of CardAccountInput, and of the wrong kind.
const EDGES: unknown[] = [
  null,
  undefined,
  Number.NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  0.5,
  1,
  0.999,
  17,
  18,
  18.5,
  100,
  100.5,
  101,
  1e10,
  1e10 + 1,
  -1e10,
  -1e10 - 1,
  -3,
  -2,
  9,
  10,
  1.5,
  '5',
  '',
  true,
  {},
  [],
  'x'.repeat(128),
  'x'.repeat(129),
];
const LISTS = (random: () => number): unknown[] => [
  [0, 0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0],
  [0, 0, 0, 0, 0, 0, 0],
  new Set([1, 2, 3, 4, 5, 6]),
  Array.from({ length: 6 }, () => EDGES[Math.floor(random() * EDGES.length)]),
  [-2, -1, 0, 1, 9, 3],
  [null, 0, 0, 0, 0, 0],
];
const FIELDS = [
  'accountId',
  'creditLimit',
  'age',
  'education',
  'repaymentStatus',
  'billAmounts',
  'paymentAmounts',
] as const;

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

  it('accepts exactly what class-validator accepts for the shared-rule inputs, nested lists included', () => {
    const random = seededRandom(11);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
    const WEIRD: unknown[] = [
      null,
      undefined,
      0,
      -1,
      1e13,
      Number.NaN,
      '',
      ' ',
      '2024-02-30',
      'AAPL',
      'no way',
      'x'.repeat(201),
      [],
      {},
      true,
      [0.5, 1],
      ['AAPL', '$$'],
    ];
    const point = (i: number) =>
      Object.assign(new PricePointInput(), {
        date: `2024-${String(1 + Math.floor(i / 28)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
        close: 10 + i,
      });
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 600; i++) {
      const series = Array.from({ length: 60 + (i % 3) }, (_, k) => point(k));
      const forecast = Object.assign(new ForecastInput(), i % 2 ? { series } : { symbol: 'DEMO' }, {
        horizon: 5,
        levels: [0.8, 0.95],
      }) as unknown as Record<string, unknown>;
      const entity = Object.assign(new ArticleEntityInput(), {
        ticker: 'DANSKE',
        names: ['Danske Bank'],
      }) as unknown as Record<string, unknown>;
      const article = Object.assign(new NewsArticleInput(), {
        id: `${i}`,
        headline: 'Shares rise',
        tickers: ['AAPL'],
        entities: [entity],
      }) as unknown as Record<string, unknown>;
      if (i % 4 !== 0) {
        const target = pick(['forecast', 'point', 'article', 'entity'] as const);
        if (target === 'forecast') forecast[pick(['series', 'symbol', 'horizon', 'levels'])] = pick(WEIRD);
        else if (target === 'point')
          (series[Math.floor(random() * series.length)] as unknown as Record<string, unknown>)[
            pick(['date', 'close', 'open', 'high', 'low', 'volume'])
          ] = pick(WEIRD);
        else if (target === 'article') article[pick(['id', 'headline', 'tickers', 'entities'])] = pick(WEIRD);
        else entity[pick(['ticker', 'names'])] = pick(WEIRD);
      }
      for (const value of [forecast, article]) {
        const expected = validateSync(value, { forbidUnknownValues: false, skipMissingProperties: false }).length === 0;
        const problems = validationProblems(value, 'input');
        assert.equal(
          problems.length === 0,
          expected,
          `case ${i}: ${JSON.stringify(value).slice(0, 300)} -> ${problems.join('; ')}`,
        );
        if (expected) accepted++;
        else rejected++;
      }
    }
    assert.ok(accepted > 300 && rejected > 300, `accepted ${accepted}, rejected ${rejected}`);
  });

  it("puts the path in front of a shared rule's sentence, list index and nested field included", () => {
    const series = Array.from({ length: 60 }, (_, k) =>
      Object.assign(new PricePointInput(), { date: `2024-03-${String(1 + (k % 28)).padStart(2, '0')}`, close: 10 }),
    );
    const input = Object.assign(new ForecastInput(), {
      series: series.map((p, k) => (k === 3 ? Object.assign(new PricePointInput(), p, { close: 0 }) : p)).slice(0, 28),
      horizon: 61,
    });
    assert.deepEqual(validationProblems(input, 'inputs[2]'), [
      'inputs[2].series must hold 60..10000 items, got 28',
      'inputs[2].horizon must be 1..60, got 61',
    ]);
    const long = Object.assign(new ForecastInput(), {
      series: series.map((p, k) => (k === 3 ? Object.assign(new PricePointInput(), p, { close: 0 }) : p)),
    });
    assert.deepEqual(validationProblems(long, 'inputs[2]'), [
      'inputs[2].series[3].close must be a positive price up to 1e+12, got 0',
    ]);
    const article = Object.assign(new NewsArticleInput(), {
      id: '1',
      headline: 'x',
      entities: [Object.assign(new ArticleEntityInput(), { ticker: 'OK', names: ['a', ' '] })],
    });
    assert.deepEqual(validationProblems(article, 'articles[4]'), [
      'articles[4].entities[0].names[1] must be 1..200 characters of text, got only whitespace',
    ]);
  });
});
