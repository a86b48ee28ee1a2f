import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePriceCsv } from '../../../src/domains/forecasting/price-import.js';
import { PriceStore } from '../../../src/domains/forecasting/price-store.js';

describe('parsePriceCsv', () => {
  it('reads date,close and date,open,high,low,close,volume', () => {
    assert.deepEqual(parsePriceCsv('date,close\n2024-01-02,10.5\n2024-01-03,11\n').rows.map((r) => r.close), [10.5, 11]);
    const full = parsePriceCsv('date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,1000\n');
    assert.deepEqual(full.rows[0], { date: '2024-01-02', open: 1, high: 2, low: 0.5, close: 1.5, volume: 1000 });
    assert.equal(full.bad.length, 0);
  });

  it('reports each bad row with its line number', () => {
    const { rows, bad } = parsePriceCsv([
      'date,open,high,low,close,volume', '2024-01-02,1,2,0.5,1.5,10', '2024-01-02,1,2,0.5,1.5,10', 'yesterday,1,2,0.5,1.5,10',
      '2024-01-04,1,2,0.5,-1,10', '2024-01-05,1,0.4,0.5,1,10', '2024-01-08,1,2,0.5,1,-3', '2024-01-09,1,2', '2024-01-10,1,2,0.5,NaN,1', '2024-01-11,1,2,0.5,1.2,',
    ].join('\n'));
    assert.deepEqual(bad.map((b) => b.line), [3, 4, 5, 6, 7, 8, 9]);
    assert.match(bad[0]!.reason, /not after the previous row/);
    assert.match(bad[2]!.reason, /close must be a positive number, got -1/);
    assert.match(bad[3]!.reason, /high \(0.4\) must be >= low/);
    assert.match(bad[5]!.reason, /expected 6 columns, got 3/);
    assert.deepEqual(rows.map((r) => r.date), ['2024-01-02', '2024-01-11']);
  });

  it('requires a known header', () => {
    assert.throws(() => parsePriceCsv('2024-01-02,10\n'), /header must be date,close/);
    assert.throws(() => parsePriceCsv(''), /empty/);
  });
});

describe('PriceStore', () => {
  it('upserts, summarises and answers date ranges', () => {
    const store = new PriceStore(':memory:');
    store.upsert('ABC', [{ date: '2024-01-02', close: 1 }, { date: '2024-01-03', close: 2 }, { date: '2024-01-04', close: 3 }]);
    store.upsert('ABC', [{ date: '2024-01-03', close: 20 }]);
    store.upsert('XYZ', [{ date: '2023-05-01', close: 7 }]);
    assert.deepEqual(store.symbols(), [
      { symbol: 'ABC', firstDate: '2024-01-02', lastDate: '2024-01-04', rows: 3 },
      { symbol: 'XYZ', firstDate: '2023-05-01', lastDate: '2023-05-01', rows: 1 },
    ]);
    assert.deepEqual(store.prices('ABC', '2024-01-03', undefined, 100).map((r) => r.close), [20, 3]);
    assert.deepEqual(store.prices('ABC', undefined, undefined, 2).map((r) => r.date), ['2024-01-02', '2024-01-03']);
    assert.deepEqual(store.latest('ABC', 2).map((r) => r.date), ['2024-01-03', '2024-01-04']);
    store.close();
  });

  it('imports all rows or none', () => {
    const store = new PriceStore(':memory:');
    assert.throws(() => store.upsert('ABC', [{ date: '2024-01-02', close: 1 }, { date: '2024-01-03', close: null as unknown as number }]));
    assert.deepEqual(store.symbols(), []);
    store.close();
  });
});
