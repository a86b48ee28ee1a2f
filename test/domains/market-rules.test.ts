import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArticleEntityInput } from '../../src/domains/sentiment/sentiment.inputs.js';
import { ForecastInput, PricePointInput } from '../../src/domains/forecasting/forecast.inputs.js';
import { validateSeries } from '../../src/domains/forecasting/forecast.service.js';
import { parsePriceCsv } from '../../src/domains/forecasting/price-import.js';
import {
  normalizeSymbol,
  priceRowProblem,
  seriesProblem,
  symbolProblem,
  textProblem,
} from '../../src/domains/market-rules.js';
import { validationProblems } from '../../src/graphql/validate-input.js';
import { GatewayErrorCode } from '../../src/platform/errors.js';

/** The symbols the tests, examples and README use: every one of them stays accepted by the one rule. */
const KNOWN_SYMBOLS = [
  'AAPL',
  'aapl',
  'msft',
  'brk.b',
  'BRK.B',
  'DEMO',
  'DEMA',
  'ACME',
  'DANSKE',
  'NDA',
  'SEB',
  'BNK',
  'XYZ',
  'SPXM',
  'BADS',
  'NO_SUCH_SYMBOL',
  'S1',
  'EURUSD=X',
  'BF-B',
  ' demo ',
];
const BAD_SYMBOLS = ['', ' ', '^GSPC', '$$$ nope', 'no way', '.AAPL', '_X', 'A'.repeat(21), 'AAPL!', 'Ä'];

describe('the one symbol rule', () => {
  it('accepts every symbol in use (news tickers, forecast symbols, imports alike) and refuses the rest, naming the value', () => {
    assert.deepEqual(
      KNOWN_SYMBOLS.filter((s) => symbolProblem(s) !== undefined),
      [],
    );
    assert.equal(BAD_SYMBOLS.filter((s) => symbolProblem(s) !== undefined).length, BAD_SYMBOLS.length);
    assert.equal(
      symbolProblem('no way'),
      'must be a ticker symbol such as AAPL or BRK.B (1..20 letters, digits or . - = ^ _), got "no way"',
    );
    assert.equal(normalizeSymbol(' brk.b '), 'BRK.B');
  });

  it('is the same rule for a news entity (once 15 characters without _) and a forecast symbol (20 with _)', () => {
    const symbols = ['DEMO_1', 'A'.repeat(16), 'A'.repeat(20), 'A'.repeat(21), 'a b'];
    const entity = symbols.map(
      (ticker) =>
        validationProblems(Object.assign(new ArticleEntityInput(), { ticker, names: ['x'] }), 'e').length === 0,
    );
    const forecast = symbols.map(
      (symbol) => validationProblems(Object.assign(new ForecastInput(), { symbol }), 'input').length === 0,
    );
    assert.deepEqual(entity, [true, true, true, false, false]);
    assert.deepEqual(forecast, entity);
  });
});

/** Rows each surface must refuse (or accept) alike: [row, accepted, the field named]. */
const ROWS: Array<[Record<string, unknown>, boolean, string]> = [
  [{ date: '2024-01-02', close: 10 }, true, ''],
  [{ date: '2024-01-02', close: 10, open: 9, high: 11, low: 8, volume: 0 }, true, ''],
  [{ date: '2024-01-02', close: 1e12 }, true, ''],
  [{ date: '2024-01-02', close: 2e12 }, false, 'close'], // the importer took this before the rules were shared
  [{ date: '2024-01-02', close: 1e300 }, false, 'close'],
  [{ date: '2024-01-02', close: 0 }, false, 'close'],
  [{ date: '2024-01-02', close: -1 }, false, 'close'],
  [{ date: '2024-01-02', close: 10, open: 0 }, false, 'open'],
  [{ date: '2024-01-02', close: 10, high: 5e12 }, false, 'high'],
  [{ date: '2024-01-02', close: 10, high: 1, low: 2 }, false, 'high'],
  [{ date: '2024-01-02', close: 10, volume: -3 }, false, 'volume'],
  [{ date: '2024-02-30', close: 10 }, false, 'date'],
  [{ date: '2024/01/02', close: 10 }, false, 'date'],
];

describe('price rows: the API, the forecast service and the importer refuse the same rows', () => {
  it(`agree on all ${ROWS.length} rows and name the same field`, () => {
    let checked = 0;
    for (const [row, accepted, field] of ROWS) {
      const label = JSON.stringify(row);
      const rule = priceRowProblem(row as never);
      assert.equal(rule === undefined, accepted, label);
      if (rule) assert.equal(rule.at, `.${field}`, label);
      // GraphQL: the input class's declared rules, through the validation fast path (the row first in a series).
      const later = Array.from({ length: 59 }, (_, k) =>
        Object.assign(new PricePointInput(), {
          date: `${2025 + Math.floor(k / 28)}-01-${String((k % 28) + 1).padStart(2, '0')}`,
          close: 10,
        }),
      );
      const api = validationProblems(
        Object.assign(new ForecastInput(), { series: [Object.assign(new PricePointInput(), row), ...later] }),
        'input',
      );
      assert.equal(api.length === 0, accepted, `${label}: ${api.join('; ')}`);
      if (!accepted) assert.ok(api[0]!.startsWith(`input.series[0].${field} must be`), api.join('; '));
      // The service (a series from a caller outside GraphQL).
      assert.equal(
        (() => {
          try {
            validateSeries([row as never], 'series');
            return true;
          } catch (error) {
            assert.equal((error as { code: string }).code, GatewayErrorCode.BAD_USER_INPUT);
            return false;
          }
        })(),
        accepted,
        label,
      );
      // The importer, from the same row written as CSV.
      const csv = `date,open,high,low,close,volume\n${[row.date, row.open, row.high, row.low, row.close, row.volume].map((v) => v ?? '').join(',')}\n`;
      const parsed = parsePriceCsv(csv);
      assert.equal(parsed.rows.length, accepted ? 1 : 0, label);
      assert.equal(parsed.bad.length, accepted ? 0 : 1, label);
      if (!accepted)
        assert.equal(`input.series[0].${parsed.bad[0]!.reason}`, api[0], 'the importer says what the API says');
      checked++;
    }
    assert.equal(checked, ROWS.length);
  });

  it('dates strictly increasing: the same verdict from the input class, the service and the importer', () => {
    const dates = ['2024-01-02', '2024-01-03', '2024-01-03', '2024-01-04'];
    const series = dates.map((date) => Object.assign(new PricePointInput(), { date, close: 10 }));
    assert.deepEqual(seriesProblem(series), {
      at: '[2].date',
      message: 'must be after 2024-01-03 (dates strictly increasing), got 2024-01-03',
    });
    assert.throws(() => validateSeries(series, 'series'), /series\[2\]\.date must be after 2024-01-03/);
    const { bad } = parsePriceCsv(`date,close\n${dates.map((d) => `${d},10`).join('\n')}\n`);
    assert.deepEqual(bad, [
      { line: 4, reason: 'date must be after 2024-01-03 (dates strictly increasing), got 2024-01-03' },
    ]);
    const padded = Array.from({ length: 60 }, (_, i) =>
      Object.assign(new PricePointInput(), { date: `2024-03-${String(1 + (i % 28)).padStart(2, '0')}`, close: 10 }),
    );
    const input = Object.assign(new ForecastInput(), { series: padded });
    assert.deepEqual(validationProblems(input, 'input'), [
      'input.series[28].date must be after 2024-03-28 (dates strictly increasing), got 2024-03-01',
    ]);
  });
});

describe('text', () => {
  it('one wording for GraphQL, the services and /v2', () => {
    assert.equal(textProblem('', 5), 'must be non-empty text, got an empty string');
    assert.equal(textProblem(' \t', 5), 'must be non-empty text, got only whitespace');
    assert.equal(textProblem('abcdef', 5), 'must be at most 5 characters, got 6');
    assert.equal(textProblem(42, 5), 'must be non-empty text, got 42');
    assert.equal(textProblem('abcde', 5), undefined);
  });
});
