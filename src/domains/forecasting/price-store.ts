import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { migratePostgres, migrateSqlite } from '../../platform/databases.js';

export interface PriceRow {
  readonly date: string;
  readonly open?: number | null;
  readonly high?: number | null;
  readonly low?: number | null;
  readonly close: number;
  readonly volume?: number | null;
}

export interface SymbolSummary {
  readonly symbol: string;
  readonly firstDate: string;
  readonly lastDate: string;
  readonly rows: number;
}

/** Daily OHLCV by symbol: an embedded SQLite file (one instance) or PostgreSQL (replicas sharing one store). */
export interface PriceStore {
  /** Inserts or replaces every row in one transaction: all of them land or none does. */
  upsert(symbol: string, rows: readonly PriceRow[]): Promise<number>;
  symbols(): Promise<SymbolSummary[]>;
  /** Rows of a symbol between two dates (inclusive), oldest first, at most `limit`. */
  prices(symbol: string, from: string | undefined, to: string | undefined, limit: number): Promise<PriceRow[]>;
  /** The most recent `count` rows of a symbol, oldest first. */
  latest(symbol: string, count: number): Promise<PriceRow[]>;
  close(): Promise<void>;
}

/** The store a configuration names: PostgreSQL with a URL, else the SQLite file (created on first open). */
export function openPriceStore(options: { postgres?: pg.Pool; file: string }): Promise<PriceStore> {
  return options.postgres
    ? PostgresPriceStore.open(options.postgres)
    : Promise.resolve(new SqlitePriceStore(options.file));
}

const FIRST_DATE = '0000-00-00';
const LAST_DATE = '9999-99-99';

/** Prices in an embedded SQLite file (created with its schema on first open). */
export class SqlitePriceStore implements PriceStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    migrateSqlite(this.db, 'prices', [
      `CREATE TABLE IF NOT EXISTS prices (
      symbol TEXT NOT NULL, date TEXT NOT NULL,
      open REAL, high REAL, low REAL, close REAL NOT NULL, volume REAL,
      PRIMARY KEY (symbol, date)) WITHOUT ROWID`,
    ]);
  }

  async upsert(symbol: string, rows: readonly PriceRow[]): Promise<number> {
    const insert = this.db.prepare(`INSERT INTO prices (symbol, date, open, high, low, close, volume)
      VALUES (@symbol, @date, @open, @high, @low, @close, @volume)
      ON CONFLICT (symbol, date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume`);
    const all = this.db.transaction((items: readonly PriceRow[]) => {
      for (const r of items)
        insert.run({
          symbol,
          date: r.date,
          open: r.open ?? null,
          high: r.high ?? null,
          low: r.low ?? null,
          close: r.close,
          volume: r.volume ?? null,
        });
    });
    all(rows);
    return rows.length;
  }

  /**
   * SQLite's data_version: it changes whenever another connection (an import, another process) commits to the
   * file, so answers read before it changed are known to be stale. Commits through this connection do not move it.
   */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  async symbols(): Promise<SymbolSummary[]> {
    return this.db
      .prepare(`SELECT symbol, MIN(date) AS firstDate, MAX(date) AS lastDate, COUNT(*) AS rows
      FROM prices GROUP BY symbol ORDER BY symbol`)
      .all() as SymbolSummary[];
  }

  async prices(symbol: string, from: string | undefined, to: string | undefined, limit: number): Promise<PriceRow[]> {
    return this.db
      .prepare(`SELECT date, open, high, low, close, volume FROM prices
      WHERE symbol = ? AND date >= ? AND date <= ? ORDER BY date LIMIT ?`)
      .all(symbol, from ?? FIRST_DATE, to ?? LAST_DATE, limit) as PriceRow[];
  }

  async latest(symbol: string, count: number): Promise<PriceRow[]> {
    return (
      this.db
        .prepare(`SELECT date, open, high, low, close, volume FROM prices WHERE symbol = ?
      ORDER BY date DESC LIMIT ?`)
        .all(symbol, count) as PriceRow[]
    ).reverse();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Prices in PostgreSQL, for several gateway replicas sharing one store; same table shape as SQLite. */
export class PostgresPriceStore implements PriceStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Brings the table up to this build's schema, on the process's pool for that database. */
  static async open(pool: pg.Pool): Promise<PostgresPriceStore> {
    await migratePostgres(pool, 'prices', [
      `CREATE TABLE IF NOT EXISTS prices (
      symbol TEXT NOT NULL, date TEXT NOT NULL,
      open DOUBLE PRECISION, high DOUBLE PRECISION, low DOUBLE PRECISION, close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION,
      PRIMARY KEY (symbol, date))`,
    ]);
    return new PostgresPriceStore(pool);
  }

  async upsert(symbol: string, rows: readonly PriceRow[]): Promise<number> {
    const column = <K extends keyof PriceRow>(k: K) => rows.map((r) => r[k] ?? null);
    // One statement: atomic on its own, whatever the number of rows.
    await this.pool.query(
      `INSERT INTO prices (symbol, date, open, high, low, close, volume)
      SELECT $1, * FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[])
      ON CONFLICT (symbol, date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume`,
      [symbol, column('date'), column('open'), column('high'), column('low'), column('close'), column('volume')],
    );
    return rows.length;
  }

  async symbols(): Promise<SymbolSummary[]> {
    const { rows } =
      await this.pool.query(`SELECT symbol, MIN(date) AS "firstDate", MAX(date) AS "lastDate", COUNT(*)::int AS rows
      FROM prices GROUP BY symbol ORDER BY symbol`);
    return rows as SymbolSummary[];
  }

  async prices(symbol: string, from: string | undefined, to: string | undefined, limit: number): Promise<PriceRow[]> {
    const { rows } = await this.pool.query(
      `SELECT date, open, high, low, close, volume FROM prices
      WHERE symbol = $1 AND date >= $2 AND date <= $3 ORDER BY date LIMIT $4`,
      [symbol, from ?? FIRST_DATE, to ?? LAST_DATE, limit],
    );
    return rows as PriceRow[];
  }

  async latest(symbol: string, count: number): Promise<PriceRow[]> {
    const { rows } = await this.pool.query(
      `SELECT date, open, high, low, close, volume FROM prices WHERE symbol = $1
      ORDER BY date DESC LIMIT $2`,
      [symbol, count],
    );
    return (rows as PriceRow[]).reverse();
  }

  /** The pool is the process's (PostgresPools), closed with it. */
  async close(): Promise<void> {}
}
