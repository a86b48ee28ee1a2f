import { migrateSqlite } from '../../platform/databases.js';
import { hash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CardAccount } from './credit.features.js';
import type { CreditAssessmentResult } from './credit.service.js';

export interface AuditContext {
  readonly requestId: string;
  /** API key name, or "anonymous" when the gateway runs open. */
  readonly caller: string;
}

export interface CreditDecisionRecord {
  readonly id: number;
  readonly at: string;
  readonly requestId: string;
  readonly caller: string;
  readonly accountId: string | null;
  readonly modelName: string;
  readonly modelVersion: string;
  /** SHA-256 of the artefact that computed the decision; null for rows recorded before it was kept, or a remote model. */
  readonly modelSha256: string | null;
  readonly inputsHash: string;
  readonly probabilityOfDefault: number;
  readonly score: number;
  readonly grade: string;
  readonly decision: string;
  readonly reasonCodes: string[];
}

export interface AuditFilter {
  readonly accountId?: string | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
  readonly limit: number;
}

/** Where credit decisions are recorded: SQLite (one instance) or PostgreSQL (several instances). */
export interface CreditAuditStore {
  /** Records a request's decisions in one transaction; resolves once they are durable. */
  record(context: AuditContext, accounts: readonly CardAccount[], results: ReadonlyArray<CreditAssessmentResult | Error>): Promise<void>;
  /** Decisions, newest first, optionally for one account and a time window. */
  query(filter: AuditFilter): Promise<CreditDecisionRecord[]>;
  /** A small write through the same path as `record`: resolves when the store can write, rejects with why not. */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The decisions one request has made so far. They are written in one transaction once the response is
 * known, and only if it carries them: a request that fails as a whole (`data: null`) records none.
 */
export class PendingDecisions {
  readonly accounts: CardAccount[] = [];
  readonly results: Array<CreditAssessmentResult | Error> = [];

  add(accounts: readonly CardAccount[], results: ReadonlyArray<CreditAssessmentResult | Error>): void {
    this.accounts.push(...accounts);
    this.results.push(...results);
  }

  get size(): number {
    return this.results.length;
  }
}

/** The rows to write for a request's successful decisions. */
export function auditRows(context: AuditContext, accounts: readonly CardAccount[], results: ReadonlyArray<CreditAssessmentResult | Error>) {
  const at = new Date().toISOString();
  return results.flatMap((r, i) => (r instanceof Error ? [] : [{
    at, requestId: context.requestId, caller: context.caller, accountId: r.accountId, modelName: r.model.name,
    modelVersion: r.model.version, modelSha256: r.model.sha256, inputsHash: inputsHash(accounts[i]!), pd: r.probabilityOfDefault, score: r.score,
    grade: r.grade, decision: r.decision, reasonCodes: JSON.stringify(r.reasons.map((x) => x.code)),
  }]));
}

/** SHA-256 of the account's fields in a fixed order: proves which inputs a decision saw without storing them. */
export function inputsHash(a: CardAccount): string {
  const canonical = JSON.stringify([a.accountId ?? null, a.creditLimit, a.age, a.education, a.repaymentStatus, a.billAmounts, a.paymentAmounts]);
  return hash('sha256', canonical);
}

/** One row of auditRows, as the SQLite writer binds it. */
export type AuditRow = ReturnType<typeof auditRows>[number];

/**
 * Opens the SQLite decision record (creating its table and indexes) with the settings every
 * connection that writes to it uses.
 */
export function openAuditDatabase(file: string): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // A request's 1,000 decisions touch up to 1,000 pages of the account index, and SQLite's default
  // checkpoint (every 1,000 WAL pages) then copied them into the database on nearly every commit.
  // Every 16,384 pages (64 MiB) a checkpoint writes each page once for many commits: at 100,000+
  // recorded rows, 1,000 decisions took 80 -> 40 ms to record. Durability is the same (each commit is
  // still synced); the WAL file is cut back to that size after a checkpoint.
  db.pragma('wal_autocheckpoint = 16384');
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  migrateSqlite(db, 'credit_decisions', [
    `CREATE TABLE IF NOT EXISTS credit_decisions (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, request_id TEXT NOT NULL, caller TEXT NOT NULL,
      account_id TEXT, model_name TEXT NOT NULL, model_version TEXT NOT NULL, inputs_hash TEXT NOT NULL,
      pd REAL NOT NULL, score INTEGER NOT NULL, grade TEXT NOT NULL, decision TEXT NOT NULL, reason_codes TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS credit_decisions_account ON credit_decisions (account_id, at);
    CREATE INDEX IF NOT EXISTS credit_decisions_at ON credit_decisions (at);
    CREATE TABLE IF NOT EXISTS credit_audit_probe (id INTEGER PRIMARY KEY, at TEXT NOT NULL);`,
    // The artefact hash of the model that decided (empty for records made before it was kept). Records made
    // by builds that added it before migrations were recorded have it already.
    (d) => {
      const columns = d.prepare('SELECT name FROM pragma_table_info(\'credit_decisions\')').pluck().all() as string[];
      if (!columns.includes('model_sha256')) d.exec('ALTER TABLE credit_decisions ADD COLUMN model_sha256 TEXT');
    },
  ]);
  return db;
}

/** A function that writes rows in one transaction, synchronously, on `db`; an empty list writes the probe row. */
export function auditRowWriter(db: Database.Database): (rows: readonly AuditRow[]) => void {
  const probe = db.prepare('INSERT INTO credit_audit_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at');
  const insert = db.prepare(`INSERT INTO credit_decisions
    (at, request_id, caller, account_id, model_name, model_version, model_sha256, inputs_hash, pd, score, grade, decision, reason_codes)
    VALUES (@at, @requestId, @caller, @accountId, @modelName, @modelVersion, @modelSha256, @inputsHash, @pd, @score, @grade, @decision, @reasonCodes)`);
  return db.transaction((rows: readonly AuditRow[]) => {
    if (rows.length === 0) probe.run(new Date().toISOString());
    rows.forEach((row) => insert.run(row));
  });
}

/**
 * Durable record of every credit decision, in an embedded SQLite file. Each request's decisions are
 * written in one transaction before the response is sent: with WAL and synchronous=FULL, a decision a
 * caller has seen survives a crash (even SIGKILL) of the process.
 *
 * The writes run on a worker thread with its own connection (an in-memory database, which one
 * connection cannot share, is written in-thread). A commit of 1,000 decisions takes tens of
 * milliseconds, much of it waiting for the disk to sync; on the event loop that stalled every other
 * request, health checks included. Reads (auditors' queries) use this thread's connection: WAL lets
 * them run beside the writer and see every committed request.
 */
export class CreditAuditLog implements CreditAuditStore {
  private readonly db: Database.Database;
  private readonly writer: AuditWriter;

  constructor(file: string) {
    this.db = openAuditDatabase(file);
    if (file === ':memory:') {
      const write = auditRowWriter(this.db);
      this.writer = { write: async (rows) => write(rows), close: async () => {} };
    } else {
      this.writer = new AuditWriterThread(file);
    }
  }

  async record(context: AuditContext, accounts: readonly CardAccount[], results: ReadonlyArray<CreditAssessmentResult | Error>): Promise<void> {
    const rows = auditRows(context, accounts, results);
    if (rows.length > 0) await this.writer.write(rows);
  }

  async query(filter: AuditFilter): Promise<CreditDecisionRecord[]> {
    return this.querySync(filter);
  }

  probe(): Promise<void> {
    return this.writer.write([]);
  }

  /** For tools reading the file directly (synchronous: better-sqlite3). */
  querySync(filter: AuditFilter): CreditDecisionRecord[] {
    const rows = this.db.prepare(`SELECT * FROM credit_decisions
      WHERE (@accountId IS NULL OR account_id = @accountId) AND at >= @from AND at <= @to
      ORDER BY id DESC LIMIT @limit`).all({
      accountId: filter.accountId ?? null, from: filter.from?.toISOString() ?? '', to: filter.to?.toISOString() ?? '9999', limit: filter.limit,
    }) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: r.id as number, at: r.at as string, requestId: r.request_id as string, caller: r.caller as string,
      accountId: r.account_id as string | null, modelName: r.model_name as string, modelVersion: r.model_version as string,
      modelSha256: (r.model_sha256 as string | null) ?? null, inputsHash: r.inputs_hash as string, probabilityOfDefault: r.pd as number, score: r.score as number,
      grade: r.grade as string, decision: r.decision as string, reasonCodes: JSON.parse(r.reason_codes as string) as string[],
    }));
  }

  async close(): Promise<void> {
    await this.writer.close();
    this.db.close();
  }
}

interface AuditWriter {
  write(rows: readonly AuditRow[]): Promise<void>;
  close(): Promise<void>;
}

export type AuditWriterRequest = { id: number; rows: readonly AuditRow[] } | { id: number; close: true };
export type AuditWriterResponse = { id: number; error?: string };

/**
 * The worker thread that writes to one SQLite file (credit-audit-writer.ts). Started on the first
 * write and again after it dies; a write it could not confirm rejects, so its response is refused.
 */
class AuditWriterThread implements AuditWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private closing = false;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(private readonly file: string) {}

  write(rows: readonly AuditRow[]): Promise<void> {
    return this.send({ id: this.nextId++, rows });
  }

  /** Closes the writer's connection once the writes in flight are done (messages are taken in order), and ends the thread. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.closing = true; // stays referenced until it has exited
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await this.send({ id: this.nextId++, close: true }).catch(() => undefined);
    await exited;
  }

  private send(request: AuditWriterRequest): Promise<void> {
    const worker = this.worker ?? this.start();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      worker.ref(); // a write in flight keeps the process alive; an idle writer does not
      worker.postMessage(request);
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL('./credit-audit-writer.js', import.meta.url), { workerData: { file: this.file } });
    worker.on('message', ({ id, error }: AuditWriterResponse) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (this.pending.size === 0 && !this.closing) worker.unref();
      if (error === undefined) waiter?.resolve();
      else waiter?.reject(new Error(`credit decisions not recorded: ${error}`));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`credit decision writer exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
