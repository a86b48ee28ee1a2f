import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

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

/** Daily OHLCV by symbol in an embedded SQLite file (created with its schema on first open). */
export class PriceStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS prices (
      symbol TEXT NOT NULL, date TEXT NOT NULL,
      open REAL, high REAL, low REAL, close REAL NOT NULL, volume REAL,
      PRIMARY KEY (symbol, date)) WITHOUT ROWID`);
  }

  /** Inserts or replaces every row in one transaction: all of them land or none does. */
  upsert(symbol: string, rows: readonly PriceRow[]): number {
    const insert = this.db.prepare(`INSERT INTO prices (symbol, date, open, high, low, close, volume)
      VALUES (@symbol, @date, @open, @high, @low, @close, @volume)
      ON CONFLICT (symbol, date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume`);
    const all = this.db.transaction((items: readonly PriceRow[]) => {
      for (const r of items) insert.run({ symbol, date: r.date, open: r.open ?? null, high: r.high ?? null, low: r.low ?? null, close: r.close, volume: r.volume ?? null });
    });
    all(rows);
    return rows.length;
  }

  symbols(): SymbolSummary[] {
    return this.db.prepare(`SELECT symbol, MIN(date) AS firstDate, MAX(date) AS lastDate, COUNT(*) AS rows
      FROM prices GROUP BY symbol ORDER BY symbol`).all() as SymbolSummary[];
  }

  /** Rows of a symbol between two dates (inclusive), oldest first, at most `limit`. */
  prices(symbol: string, from: string | undefined, to: string | undefined, limit: number): PriceRow[] {
    return this.db.prepare(`SELECT date, open, high, low, close, volume FROM prices
      WHERE symbol = ? AND date >= ? AND date <= ? ORDER BY date LIMIT ?`).all(symbol, from ?? '0000-00-00', to ?? '9999-99-99', limit) as PriceRow[];
  }

  /** The most recent `count` rows of a symbol, oldest first. */
  latest(symbol: string, count: number): PriceRow[] {
    return (this.db.prepare(`SELECT date, open, high, low, close, volume FROM prices WHERE symbol = ?
      ORDER BY date DESC LIMIT ?`).all(symbol, count) as PriceRow[]).reverse();
  }

  close(): void {
    this.db.close();
  }
}
