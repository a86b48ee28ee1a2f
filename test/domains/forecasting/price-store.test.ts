import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePriceCsv } from '../../../src/domains/forecasting/price-import.js';
import { openPriceStore, type PriceStore } from '../../../src/domains/forecasting/price-store.js';
import { PostgresPools } from '../../../src/platform/databases.js';
import { startPostgres } from '../../support/postgres-server.js';

describe('parsePriceCsv', () => {
  it('reads date,close and date,open,high,low,close,volume', () => {
    assert.deepEqual(
      parsePriceCsv('date,close\n2024-01-02,10.5\n2024-01-03,11\n').rows.map((r) => r.close),
      [10.5, 11],
    );
    const full = parsePriceCsv('date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,1000\n');
    assert.deepEqual(full.rows[0], { date: '2024-01-02', open: 1, high: 2, low: 0.5, close: 1.5, volume: 1000 });
    assert.equal(full.bad.length, 0);
  });

  it('reports each bad row with its line number', () => {
    const { rows, bad } = parsePriceCsv(
      [
        'date,open,high,low,close,volume',
        '2024-01-02,1,2,0.5,1.5,10',
        '2024-01-02,1,2,0.5,1.5,10',
        'yesterday,1,2,0.5,1.5,10',
        '2024-01-04,1,2,0.5,-1,10',
        '2024-01-05,1,0.4,0.5,1,10',
        '2024-01-08,1,2,0.5,1,-3',
        '2024-01-09,1,2',
        '2024-01-10,1,2,0.5,NaN,1',
        '2024-01-11,1,2,0.5,1.2,',
      ].join('\n'),
    );
    assert.deepEqual(
      bad.map((b) => b.line),
      [3, 4, 5, 6, 7, 8, 9],
    );
    assert.match(bad[0]!.reason, /^date must be after 2024-01-02 \(dates strictly increasing\), got 2024-01-02$/);
    assert.match(bad[2]!.reason, /^close must be a positive price up to 1e\+12, got -1$/);
    assert.match(bad[3]!.reason, /^high must be >= low \(0\.5\), got 0\.4$/);
    assert.match(bad[5]!.reason, /expected 6 columns, got 3/);
    assert.deepEqual(
      rows.map((r) => r.date),
      ['2024-01-02', '2024-01-11'],
    );
  });

  it('requires a known header', () => {
    assert.throws(() => parsePriceCsv('2024-01-02,10\n'), /header must be date,close/);
    assert.throws(() => parsePriceCsv(''), /empty/);
  });
});

// The same tests against both backends: the SQLite file of one instance and the PostgreSQL store of replicas.
const backends: Array<[string, () => Promise<{ store: PriceStore; stop: () => Promise<void> }>]> = [
  [
    'SQLite',
    async () => {
      const store = await openPriceStore({ file: ':memory:' });
      return { store, stop: () => store.close() };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const server = await startPostgres();
      const pools = new PostgresPools();
      const store = await openPriceStore({ postgres: pools.pool(server.url), file: ':memory:' });
      return {
        store,
        stop: async () => {
          await store.close();
          await pools.close();
          await server.stop();
        },
      };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`PriceStore (${name})`, () => {
    it('upserts, summarises and answers date ranges', async () => {
      const { store, stop } = await open();
      try {
        await store.upsert('ABC', [
          { date: '2024-01-02', close: 1 },
          { date: '2024-01-03', close: 2 },
          { date: '2024-01-04', close: 3 },
        ]);
        await store.upsert('ABC', [{ date: '2024-01-03', close: 20 }]);
        await store.upsert('XYZ', [{ date: '2023-05-01', close: 7, open: 6.5, high: 7.5, low: 6, volume: 1000 }]);
        assert.deepEqual(await store.symbols(), [
          { symbol: 'ABC', firstDate: '2024-01-02', lastDate: '2024-01-04', rows: 3 },
          { symbol: 'XYZ', firstDate: '2023-05-01', lastDate: '2023-05-01', rows: 1 },
        ]);
        assert.deepEqual(
          (await store.prices('ABC', '2024-01-03', undefined, 100)).map((r) => r.close),
          [20, 3],
        );
        assert.deepEqual(
          (await store.prices('ABC', undefined, undefined, 2)).map((r) => r.date),
          ['2024-01-02', '2024-01-03'],
        );
        assert.deepEqual(
          (await store.latest('ABC', 2)).map((r) => r.date),
          ['2024-01-03', '2024-01-04'],
        );
        assert.deepEqual(await store.prices('XYZ', undefined, undefined, 1), [
          { date: '2023-05-01', open: 6.5, high: 7.5, low: 6, close: 7, volume: 1000 },
        ]);
      } finally {
        await stop();
      }
    });

    it('imports all rows or none', async () => {
      const { store, stop } = await open();
      try {
        await assert.rejects(
          store.upsert('ABC', [
            { date: '2024-01-02', close: 1 },
            { date: '2024-01-03', close: null as unknown as number },
          ]),
        );
        assert.deepEqual(await store.symbols(), []);
      } finally {
        await stop();
      }
    });
  });
}
