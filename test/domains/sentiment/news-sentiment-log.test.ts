import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openNewsSentimentLog, type NewsSentimentLog } from '../../../src/domains/sentiment/news-sentiment-log.js';
import { PostgresPools } from '../../../src/platform/databases.js';
import { startPostgres } from '../../support/postgres-server.js';

const backends: Array<[string, () => Promise<{ log: NewsSentimentLog; stop: () => Promise<void> }>]> = [
  [
    'SQLite',
    async () => {
      const log = await openNewsSentimentLog({ file: ':memory:' });
      return { log, stop: () => log.close() };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const server = await startPostgres();
      const pools = new PostgresPools();
      const log = await openNewsSentimentLog({ postgres: pools.pool(server.url), file: ':memory:' });
      return {
        log,
        stop: async () => {
          await log.close();
          await pools.close();
          await server.stop();
        },
      };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`NewsSentimentLog (${name})`, () => {
    it("summarises a ticker's mentions since a time; none reads as zero articles", async () => {
      const { log, stop } = await open();
      try {
        await log.record([
          { symbol: 'AAPL', at: '2026-11-01T10:00:00.000Z', label: 'POSITIVE', net: 0.8 },
          { symbol: 'AAPL', at: '2026-11-20T10:00:00.000Z', label: 'NEGATIVE', net: -0.6 },
          { symbol: 'AAPL', at: '2026-11-21T10:00:00.000Z', label: 'NEUTRAL', net: 0.1 },
          { symbol: 'MSFT', at: '2026-11-21T10:00:00.000Z', label: 'POSITIVE', net: 0.5 },
        ]);
        const recent = await log.summary('AAPL', new Date('2026-11-15T00:00:00Z'));
        assert.deepEqual(
          { ...recent, meanNetSentiment: Math.round(recent.meanNetSentiment * 1000) / 1000 },
          { ticker: 'AAPL', articleCount: 2, positive: 0, negative: 1, neutral: 1, meanNetSentiment: -0.25 },
        );
        assert.equal((await log.summary('AAPL', new Date('2026-10-01T00:00:00Z'))).articleCount, 3);
        assert.deepEqual(await log.summary('NOPE', new Date(0)), {
          ticker: 'NOPE',
          articleCount: 0,
          positive: 0,
          negative: 0,
          neutral: 0,
          meanNetSentiment: 0,
        });
      } finally {
        await stop();
      }
    });
  });
}
