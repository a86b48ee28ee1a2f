import type Database from 'better-sqlite3';
import pg from 'pg';

/**
 * One connection pool per PostgreSQL URL for the whole process: the price store, the news log and the
 * decision record share it when they name the same database, so a replica holds `max` connections to it,
 * not one pool's worth per store.
 */
export class PostgresPools {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly max = 10) {}

  pool(url: string): pg.Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new pg.Pool({ connectionString: url, max: this.max });
      // An idle connection the server closes (a restart, a failover) is an 'error' on the pool, which would end the
      // process unheard; the pool drops that connection and opens another for the next query, whose own failure
      // reaches its caller.
      pool.on('error', () => undefined);
      this.pools.set(url, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end()));
  }
}

/**
 * A component's schema as numbered steps: step i (from 1) runs once per database, in order, and is recorded in
 * `schema_migrations`. Steps are never edited once released; a change is a new step. Step 1 of each component
 * creates its tables with IF NOT EXISTS, so databases made before migrations were recorded adopt them unchanged.
 */
export type PostgresMigrations = readonly string[];
export type SqliteMigrations = ReadonlyArray<string | ((db: Database.Database) => void)>;

// Replicas starting together take this lock, so each step runs once and the bookkeeping table is created once.
const MIGRATION_LOCK = 0x66696e74; // "fint"

/** Applies the steps of `component` the database has not recorded, in one transaction. */
export async function migratePostgres(pool: pg.Pool, component: string, steps: PostgresMigrations): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (component, version))`);
    const { rows } = await client.query(
      'SELECT COALESCE(MAX(version), 0)::int AS version FROM schema_migrations WHERE component = $1',
      [component],
    );
    const applied = (rows[0] as { version: number }).version;
    if (applied > steps.length)
      throw new Error(
        `${component}: the database is at schema version ${applied}, this build knows ${steps.length}; run a newer build`,
      );
    for (let version = applied + 1; version <= steps.length; version++) {
      await client.query(steps[version - 1]!);
      await client.query('INSERT INTO schema_migrations (component, version) VALUES ($1, $2)', [component, version]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The same for an SQLite file (one writer at a time by SQLite's own lock). */
export function migrateSqlite(db: Database.Database, component: string, steps: SqliteMigrations): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))`);
    const applied = db
      .prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?')
      .pluck()
      .get(component) as number;
    if (applied > steps.length)
      throw new Error(
        `${component}: the database is at schema version ${applied}, this build knows ${steps.length}; run a newer build`,
      );
    for (let version = applied + 1; version <= steps.length; version++) {
      const step = steps[version - 1]!;
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.prepare('INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)').run(
        component,
        version,
        new Date().toISOString(),
      );
    }
  }).immediate();
}
