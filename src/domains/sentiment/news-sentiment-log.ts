import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { migratePostgres, migrateSqlite } from '../../platform/databases.js';
import type { SentimentLabelName, TickerSentimentSummary } from './sentiment.service.js';

/** One ticker named by one analysed article: what the article said about it, and when. */
export interface NewsMention {
  readonly symbol: string;
  /** ISO time: the article's publishedAt, else when it was analysed. */
  readonly at: string;
  readonly label: SentimentLabelName;
  /** P(positive) - P(negative). */
  readonly net: number;
}

/**
 * Every ticker mention of the articles newsSentiment has analysed, so a ticker's recent news tone can
 * be read back by symbol (Ticker.newsSentiment, also for other subgraphs). Kept beside the prices:
 * SQLite for one instance, PostgreSQL for replicas.
 */
export interface NewsSentimentLog {
  record(mentions: readonly NewsMention[]): Promise<void>;
  /** The ticker's mentions since `since` (meanNetSentiment 0 without any). */
  summary(symbol: string, since: Date): Promise<TickerSentimentSummary>;
  close(): Promise<void>;
}

export function openNewsSentimentLog(options: { postgres?: pg.Pool; file: string }): Promise<NewsSentimentLog> {
  return options.postgres
    ? PostgresNewsSentimentLog.open(options.postgres)
    : Promise.resolve(new SqliteNewsSentimentLog(options.file));
}

/** The same steps for SQLite and PostgreSQL: the table is plain enough for both. */
const MIGRATIONS = [
  'CREATE TABLE IF NOT EXISTS news_mentions (symbol TEXT NOT NULL, at TEXT NOT NULL, label TEXT NOT NULL, net DOUBLE PRECISION NOT NULL); ' +
    'CREATE INDEX IF NOT EXISTS news_mentions_symbol ON news_mentions (symbol, at)',
];
const SUMMARY = `SELECT COUNT(*) AS n, SUM(CASE WHEN label = 'POSITIVE' THEN 1 ELSE 0 END) AS positive,
  SUM(CASE WHEN label = 'NEGATIVE' THEN 1 ELSE 0 END) AS negative, SUM(CASE WHEN label = 'NEUTRAL' THEN 1 ELSE 0 END) AS neutral,
  AVG(net) AS mean FROM news_mentions`;

function toSummary(
  ticker: string,
  row: { n: unknown; positive: unknown; negative: unknown; neutral: unknown; mean: unknown },
): TickerSentimentSummary {
  return {
    ticker,
    articleCount: Number(row.n),
    positive: Number(row.positive ?? 0),
    negative: Number(row.negative ?? 0),
    neutral: Number(row.neutral ?? 0),
    meanNetSentiment: row.mean == null ? 0 : Number(row.mean),
  };
}

class SqliteNewsSentimentLog implements NewsSentimentLog {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    migrateSqlite(this.db, 'news_mentions', MIGRATIONS);
  }

  async record(mentions: readonly NewsMention[]): Promise<void> {
    const insert = this.db.prepare('INSERT INTO news_mentions (symbol, at, label, net) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => mentions.forEach((m) => insert.run(m.symbol, m.at, m.label, m.net)))();
  }

  async summary(symbol: string, since: Date): Promise<TickerSentimentSummary> {
    return toSummary(
      symbol,
      this.db.prepare(`${SUMMARY} WHERE symbol = ? AND at >= ?`).get(symbol, since.toISOString()) as never,
    );
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

class PostgresNewsSentimentLog implements NewsSentimentLog {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(pool: pg.Pool): Promise<PostgresNewsSentimentLog> {
    await migratePostgres(pool, 'news_mentions', MIGRATIONS);
    return new PostgresNewsSentimentLog(pool);
  }

  async record(mentions: readonly NewsMention[]): Promise<void> {
    if (mentions.length === 0) return;
    await this.pool.query(
      'INSERT INTO news_mentions (symbol, at, label, net) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[])',
      [
        mentions.map((m) => m.symbol),
        mentions.map((m) => m.at),
        mentions.map((m) => m.label),
        mentions.map((m) => m.net),
      ],
    );
  }

  async summary(symbol: string, since: Date): Promise<TickerSentimentSummary> {
    const { rows } = await this.pool.query(`${SUMMARY} WHERE symbol = $1 AND at >= $2`, [symbol, since.toISOString()]);
    return toSummary(symbol, rows[0]);
  }

  /** The pool is the process's (PostgresPools), closed with it. */
  async close(): Promise<void> {}
}
