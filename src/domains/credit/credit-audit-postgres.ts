import type pg from 'pg';
import { migratePostgres } from '../../platform/databases.js';
import type { CardAccount } from './credit.features.js';
import {
  auditRows,
  decisionRecordOf,
  type AuditContext,
  type AuditFilter,
  type CreditAuditStore,
  type CreditDecisionRecord,
} from './credit-audit.js';
import type { CreditAssessmentResult } from './credit.service.js';

/**
 * The credit decision record in PostgreSQL, for several gateway instances writing to one store.
 * Each request's decisions go in one multi-row INSERT (unnest of arrays) in one transaction, committed
 * before the response is built.
 */
export class PostgresCreditAudit implements CreditAuditStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Brings the tables up to this build's schema, on the process's pool for that database. */
  static async open(pool: pg.Pool): Promise<PostgresCreditAudit> {
    await migratePostgres(pool, 'credit_decisions', [
      `CREATE TABLE IF NOT EXISTS credit_decisions (
        id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, request_id TEXT NOT NULL, caller TEXT NOT NULL,
        account_id TEXT, model_name TEXT NOT NULL, model_version TEXT NOT NULL, inputs_hash TEXT NOT NULL,
        pd DOUBLE PRECISION NOT NULL, score INTEGER NOT NULL, grade TEXT NOT NULL, decision TEXT NOT NULL, reason_codes JSONB NOT NULL);
      CREATE INDEX IF NOT EXISTS credit_decisions_account ON credit_decisions (account_id, at);
      CREATE INDEX IF NOT EXISTS credit_decisions_at ON credit_decisions (at);
      CREATE TABLE IF NOT EXISTS credit_audit_probe (id INTEGER PRIMARY KEY, at TIMESTAMPTZ NOT NULL)`,
      // The artefact hash of the model that decided (empty for records made before it was kept).
      'ALTER TABLE credit_decisions ADD COLUMN IF NOT EXISTS model_sha256 TEXT',
    ]);
    return new PostgresCreditAudit(pool);
  }

  async record(
    context: AuditContext,
    accounts: readonly CardAccount[],
    results: ReadonlyArray<CreditAssessmentResult | Error>,
  ): Promise<void> {
    const rows = auditRows(context, accounts, results);
    if (rows.length === 0) return;
    const column = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
    await this.pool.query(
      `INSERT INTO credit_decisions
      (at, request_id, caller, account_id, model_name, model_version, inputs_hash, pd, score, grade, decision, reason_codes, model_sha256)
      SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::float8[], $9::int[], $10::text[], $11::text[], $12::jsonb[], $13::text[])`,
      [
        column('at'),
        column('requestId'),
        column('caller'),
        column('accountId'),
        column('modelName'),
        column('modelVersion'),
        column('inputsHash'),
        column('pd'),
        column('score'),
        column('grade'),
        column('decision'),
        column('reasonCodes'),
        column('modelSha256'),
      ],
    );
  }

  async query(filter: AuditFilter): Promise<CreditDecisionRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM credit_decisions
      WHERE ($1::text IS NULL OR account_id = $1) AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at <= $3)
      ORDER BY id DESC LIMIT $4`,
      [filter.accountId ?? null, filter.from ?? null, filter.to ?? null, filter.limit],
    );
    return rows.map((r: Record<string, unknown>) =>
      decisionRecordOf(r, (r.at as Date).toISOString(), r.reason_codes as string[]),
    );
  }

  async probe(): Promise<void> {
    await this.pool.query(
      'INSERT INTO credit_audit_probe (id, at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
    );
  }

  /** The pool is the process's (PostgresPools), closed with it. */
  async close(): Promise<void> {}
}
