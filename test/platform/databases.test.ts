import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { migratePostgres, migrateSqlite, PostgresPools } from '../../src/platform/databases.js';
import { startPostgres } from '../support/postgres-server.js';

describe('migrations', () => {
  it('SQLite: each step runs once, in order; a later build adds only its new step; a newer database is refused', () => {
    const db = new Database(':memory:');
    const v1 = ['CREATE TABLE t (a TEXT)'];
    migrateSqlite(db, 'demo', v1);
    migrateSqlite(db, 'demo', v1); // a restart: nothing to do (a second CREATE TABLE would throw)
    migrateSqlite(db, 'demo', [...v1, (d) => d.exec('ALTER TABLE t ADD COLUMN b TEXT')]);
    const columns = db.prepare("SELECT name FROM pragma_table_info('t')").pluck().all();
    assert.deepEqual(columns, ['a', 'b']);
    assert.deepEqual(
      db.prepare("SELECT version FROM schema_migrations WHERE component = 'demo' ORDER BY version").pluck().all(),
      [1, 2],
    );
    assert.throws(() => migrateSqlite(db, 'demo', v1), /demo: the database is at schema version 2, this build knows 1/);
    db.close();
  });

  describe('PostgreSQL', () => {
    let server: Awaited<ReturnType<typeof startPostgres>>;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server.stop());

    it('one pool per URL; replicas migrating together apply each step once; a failed step leaves nothing recorded', async () => {
      const a = new PostgresPools();
      const b = new PostgresPools();
      try {
        assert.equal(a.pool(server.url), a.pool(server.url));
        const steps = ['CREATE TABLE demo (a TEXT)', 'ALTER TABLE demo ADD COLUMN b TEXT'];
        // Two processes starting at once: without the lock, both would run CREATE TABLE and one would fail.
        await Promise.all([
          migratePostgres(a.pool(server.url), 'demo', steps),
          migratePostgres(b.pool(server.url), 'demo', steps),
        ]);
        const { rows } = await a
          .pool(server.url)
          .query("SELECT version FROM schema_migrations WHERE component = 'demo' ORDER BY version");
        assert.deepEqual(
          rows.map((r: { version: number }) => r.version),
          [1, 2],
        );
        await assert.rejects(
          migratePostgres(a.pool(server.url), 'demo', [...steps, 'ALTER TABLE no_such_table ADD COLUMN c TEXT']),
          /no_such_table/,
        );
        const after = await a
          .pool(server.url)
          .query("SELECT COUNT(*)::int AS n FROM schema_migrations WHERE component = 'demo'");
        assert.equal(after.rows[0].n, 2);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
