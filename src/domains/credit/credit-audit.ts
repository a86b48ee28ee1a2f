import { migrateSqlite } from '../../platform/databases.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CardAccount } from './credit.features.js';
import type { CreditAssessmentResult } from './credit.service.js';
import {
  decisionColumns,
  decisionRows,
  transferables,
  type AuditContext,
  type AuditRow,
  type DecisionColumns,
} from './credit-audit-columns.js';

export { auditRows, inputsHash, type AuditContext, type AuditRow } from './credit-audit-columns.js';

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
  record(
    context: AuditContext,
    accounts: readonly CardAccount[],
    results: ReadonlyArray<CreditAssessmentResult | Error>,
  ): Promise<void>;
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
      const columns = d.prepare("SELECT name FROM pragma_table_info('credit_decisions')").pluck().all() as string[];
      if (!columns.includes('model_sha256')) d.exec('ALTER TABLE credit_decisions ADD COLUMN model_sha256 TEXT');
    },
  ]);
  return db;
}

/** A function that writes rows in one transaction, synchronously, on `db`; an empty list writes the probe row. */
export function auditRowWriter(db: Database.Database): (rows: readonly AuditRow[]) => void {
  const probe = db.prepare(
    'INSERT INTO credit_audit_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
  );
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
 * request, health checks included. The event loop only packs a request's decisions into columns
 * (credit-audit-columns.ts); the writer thread hashes the inputs and builds the rows. Reads (auditors'
 * queries) use this thread's connection: WAL lets them run beside the writer and see every committed request.
 */
export class CreditAuditLog implements CreditAuditStore {
  private readonly db: Database.Database;
  private readonly writer: AuditWriter;

  constructor(file: string) {
    this.db = openAuditDatabase(file);
    if (file === ':memory:') {
      const write = auditRowWriter(this.db);
      this.writer = { write: async (columns) => write(columns ? decisionRows(columns) : []), close: async () => {} };
    } else {
      this.writer = new AuditWriterThread(file);
    }
  }

  async record(
    context: AuditContext,
    accounts: readonly CardAccount[],
    results: ReadonlyArray<CreditAssessmentResult | Error>,
  ): Promise<void> {
    const columns = decisionColumns(context, accounts, results);
    if (columns.count > 0) await this.writer.write(columns);
  }

  async query(filter: AuditFilter): Promise<CreditDecisionRecord[]> {
    return this.querySync(filter);
  }

  probe(): Promise<void> {
    return this.writer.write(null);
  }

  /** For tools reading the file directly (synchronous: better-sqlite3). */
  querySync(filter: AuditFilter): CreditDecisionRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM credit_decisions
      WHERE (@accountId IS NULL OR account_id = @accountId) AND at >= @from AND at <= @to
      ORDER BY id DESC LIMIT @limit`)
      .all({
        accountId: filter.accountId ?? null,
        from: filter.from?.toISOString() ?? '',
        to: filter.to?.toISOString() ?? '9999',
        limit: filter.limit,
      }) as Array<Record<string, unknown>>;
    return rows.map((r) => decisionRecordOf(r, r.at as string, JSON.parse(r.reason_codes as string) as string[]));
  }

  async close(): Promise<void> {
    await this.writer.close();
    this.db.close();
  }
}

/** Writes one request's decisions in one transaction; null writes the probe row. */
interface AuditWriter {
  write(columns: DecisionColumns | null): Promise<void>;
  close(): Promise<void>;
}

export type AuditWriterRequest = { id: number; columns: DecisionColumns | null } | { id: number; close: true };
export type AuditWriterResponse = { id: number; error?: string };

/** A write of at most this many decisions (an interactive request's) goes before larger ones waiting. */
const SMALL_WRITE = 64;
/** Small writes that may go ahead of a waiting large one before it goes next. */
const MAX_OVERTAKEN = 32;

/**
 * The worker thread that writes to one SQLite file (credit-audit-writer.ts). Started on the first
 * write and again after it dies; a write it could not confirm rejects, so its response is refused.
 *
 * One write is at the thread at a time; the others wait here, so that a small write (an interactive
 * request's few decisions) goes next instead of behind every large one queued before it (a bulk request's
 * 10,000 decisions take the thread for a few hundred milliseconds on a loaded machine). A large write goes
 * next once MAX_OVERTAKEN small ones have gone ahead of it, so a stream of small writes cannot starve it.
 */
class AuditWriterThread implements AuditWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private closing = false;
  private readonly waiting: Array<{ request: AuditWriterRequest; size: number; overtaken: number; done: Settle }> = [];
  private inFlight: { id: number; done: Settle } | undefined;
  /** Called once nothing waits and nothing is at the thread (close waits for it). */
  private drained: (() => void) | undefined;

  constructor(private readonly file: string) {}

  write(columns: DecisionColumns | null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({
        request: { id: this.nextId++, columns },
        size: columns?.count ?? 0,
        overtaken: 0,
        done: { resolve, reject },
      });
      this.dispatch();
    });
  }

  /** Closes the writer's connection once every write is done, and ends the thread. */
  async close(): Promise<void> {
    if (!this.worker && !this.inFlight && this.waiting.length === 0) return;
    this.closing = true; // stays referenced until it has exited
    while (this.inFlight || this.waiting.length > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    await new Promise<void>((resolve, reject) =>
      this.send({ id: this.nextId++, close: true }, { resolve, reject }),
    ).catch(() => undefined);
    await exited;
  }

  /** Sends the next write when none is at the thread: the oldest small one, unless a large one has waited long enough. */
  private dispatch(): void {
    if (this.inFlight || this.waiting.length === 0) {
      if (!this.inFlight && this.waiting.length === 0) this.drained?.();
      return;
    }
    let next = 0;
    if (this.waiting[0]!.size > SMALL_WRITE && this.waiting[0]!.overtaken < MAX_OVERTAKEN) {
      const small = this.waiting.findIndex((w) => w.size <= SMALL_WRITE);
      if (small > 0) {
        next = small;
        for (let i = 0; i < small; i++) this.waiting[i]!.overtaken++;
      }
    }
    const [write] = this.waiting.splice(next, 1);
    this.send(write!.request, write!.done);
  }

  private send(request: AuditWriterRequest, done: Settle): void {
    const worker = this.worker ?? this.start();
    this.inFlight = { id: request.id, done };
    worker.ref(); // a write in flight keeps the process alive; an idle writer does not
    // The columns' typed arrays move to the thread; nothing here reads them again.
    worker.postMessage(request, 'columns' in request && request.columns ? transferables(request.columns) : []);
  }

  private start(): Worker {
    const worker = new Worker(new URL('./credit-audit-writer.js', import.meta.url), {
      workerData: { file: this.file },
    });
    worker.on('message', ({ id, error }: AuditWriterResponse) => {
      const write = this.inFlight?.id === id ? this.inFlight : undefined;
      this.inFlight = undefined;
      if (this.waiting.length === 0 && !this.closing) worker.unref();
      if (error === undefined) write?.done.resolve();
      else write?.done.reject(new Error(`credit decisions not recorded: ${error}`));
      this.dispatch();
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      // The write at the thread is lost with it; the waiting ones go to a new thread.
      const write = this.inFlight;
      this.inFlight = undefined;
      write?.done.reject(error);
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`credit decision writer exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

interface Settle {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A recorded decision from its table row, as SQLite and PostgreSQL return it; the two differ only in how they
 * hold the time and the reason codes, which the store passes converted.
 */
export function decisionRecordOf(r: Record<string, unknown>, at: string, reasonCodes: string[]): CreditDecisionRecord {
  return {
    id: Number(r.id),
    at,
    requestId: r.request_id as string,
    caller: r.caller as string,
    accountId: r.account_id as string | null,
    modelName: r.model_name as string,
    modelVersion: r.model_version as string,
    modelSha256: (r.model_sha256 as string | null) ?? null,
    inputsHash: r.inputs_hash as string,
    probabilityOfDefault: r.pd as number,
    score: r.score as number,
    grade: r.grade as string,
    decision: r.decision as string,
    reasonCodes,
  };
}
