import { statSync } from 'node:fs';
import { Router } from 'express';
import type pg from 'pg';
import { hasScope, type CallerSource } from '../platform/api-keys.js';
import { migratePostgres, type PostgresMigrations, type PostgresPools } from '../platform/databases.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { identify, refusal, sendRefusal, type TrustedDocumentCheck } from './admission.js';
import { TrustedDocuments, type TrustedOperation } from './trusted-documents.js';

/** The `caller` of a row every caller may run; any other value is an API key's name or `jwt:<sub>`. */
export const EVERY_CALLER = '*';

/** The table the replicas share: one row per (caller, operation); an operation registered for several callers has a row each. */
export const TRUSTED_DOCUMENTS_MIGRATIONS: PostgresMigrations = [
  `CREATE TABLE IF NOT EXISTS trusted_documents (
    caller TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    registered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, id))`,
];

/** Where the trusted documents come from: a cheap version to see a change by, and the documents themselves. */
interface Origin {
  readonly name: string;
  version(): Promise<string>;
  load(): Promise<TrustedDocuments>;
}

function fileOrigin(file: string): Origin {
  return {
    name: file,
    // A rewrite of the file changes its mtime or size; the content is read only then.
    version: async () => {
      const s = statSync(file);
      return `${s.mtimeMs}:${s.size}`;
    },
    load: async () => TrustedDocuments.read(file),
  };
}

function postgresOrigin(pool: pg.Pool): Origin {
  return {
    name: 'PostgreSQL table trusted_documents',
    // Every poll of every replica reads one digest; the rows are read only when it moved. An id is its body's hash,
    // so (caller, id, name, type) covers every change.
    version: async () => {
      const { rows } = await pool.query(`SELECT count(*)::int AS n,
        md5(COALESCE(string_agg(caller || ' ' || id || ' ' || type || ' ' || name, ',' ORDER BY caller, id), '')) AS digest FROM trusted_documents`);
      const row = rows[0] as { n: number; digest: string };
      return `${row.n}:${row.digest}`;
    },
    load: async () => {
      const { rows } = await pool.query(
        'SELECT caller, id, name, type, body FROM trusted_documents ORDER BY id, caller',
      );
      const operations = (
        rows as Array<{ caller: string; id: string; name: string; type: TrustedOperation['type']; body: string }>
      ).map((r) => ({
        id: r.id,
        name: r.name,
        type: r.type,
        body: r.body,
        ...(r.caller === EVERY_CALLER ? {} : { callers: [r.caller] }),
      }));
      return TrustedDocuments.checked(operations, 'TRUSTED_DOCUMENTS_DATABASE_URL table trusted_documents', 'postgres');
    },
  };
}

/** What a refresh found. */
export interface RefreshReport {
  readonly source: string;
  readonly changed: boolean;
  /** Distinct operations now served. */
  readonly operations: number;
}

/**
 * The trusted documents a gateway serves now, read from a file or from PostgreSQL at start, then again every
 * `refreshMs` and on demand, so replicas sharing the table converge without a restart. A read that fails keeps the
 * documents loaded before (a replica never falls back to running everything, nor to refusing everything).
 */
export class TrustedDocumentSource {
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<RefreshReport> | undefined;
  private failing = false;

  private constructor(
    private readonly origin: Origin,
    private documents: TrustedDocuments,
    private version: string,
    private readonly logger: Logger,
  ) {}

  /** The configured source, loaded; undefined when neither a file nor a database is configured. Rejects, saying why, when the first read fails. */
  static async open(
    settings: { file: string | undefined; databaseUrl: string | undefined; refreshMs: number },
    postgres: PostgresPools,
    logger: Logger,
  ): Promise<TrustedDocumentSource | undefined> {
    let origin: Origin;
    if (settings.databaseUrl) {
      const pool = postgres.pool(settings.databaseUrl);
      try {
        await migratePostgres(pool, 'trusted_documents', TRUSTED_DOCUMENTS_MIGRATIONS);
      } catch (error) {
        throw new Error(
          `TRUSTED_DOCUMENTS_DATABASE_URL: the trusted_documents table cannot be prepared: ${(error as Error).message}`,
        );
      }
      origin = postgresOrigin(pool);
    } else if (settings.file) {
      origin = fileOrigin(settings.file);
    } else {
      return undefined;
    }
    const version = await origin.version();
    const source = new TrustedDocumentSource(origin, await origin.load(), version, logger);
    if (settings.refreshMs > 0) {
      source.timer = setInterval(() => {
        source.refresh().catch(() => undefined); // refresh logs it
      }, settings.refreshMs);
      source.timer.unref();
    }
    return source;
  }

  /** The documents served now. */
  get current(): TrustedDocuments {
    return this.documents;
  }

  get name(): string {
    return this.origin.name;
  }

  /** The registered operation with this hash, for APQ (`withTrustedDocuments`). */
  get(hash: string): TrustedOperation | undefined {
    return this.documents.get(hash);
  }

  /** Admission's check against the documents of the moment. */
  check(): TrustedDocumentCheck {
    return (caller, query, hash) => this.documents.verdict(caller, query, hash);
  }

  /** Reads the source again when it changed; concurrent calls share one read. Rejects when it cannot be read (the documents stay as they were). */
  refresh(): Promise<RefreshReport> {
    this.refreshing ??= this.reload().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async reload(): Promise<RefreshReport> {
    try {
      // The version is read before the rows: a change between the two is seen again by the next refresh.
      const version = await this.origin.version();
      const changed = version !== this.version;
      if (changed) {
        const previous = this.documents.operations.length;
        this.documents = await this.origin.load();
        this.version = version;
        this.logger.info(
          { source: this.origin.name, operations: this.documents.operations.length, previous },
          'trusted documents reloaded',
        );
      }
      if (this.failing) this.logger.info({ source: this.origin.name }, 'trusted documents readable again');
      this.failing = false;
      return { source: this.origin.name, changed, operations: this.documents.operations.length };
    } catch (error) {
      // Once per outage, not once per poll.
      if (!this.failing)
        this.logger.warn(
          { source: this.origin.name, err: error, operations: this.documents.operations.length },
          'trusted documents cannot be read; serving the ones loaded before',
        );
      this.failing = true;
      throw error;
    }
  }

  /** Stops the polling, after a read in progress. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
  }
}

/**
 * POST /trusted-documents/refresh: reads the trusted documents again now (after a publish, before the next poll).
 * For callers with the scope `admin` (anyone when the gateway is open and ALLOW_OPEN_ADMIN=true).
 */
export function trustedDocumentsRoutes(
  source: TrustedDocumentSource,
  keys: CallerSource,
  allowOpenAdmin: boolean,
): Router {
  const router = Router();
  router.post('/trusted-documents/refresh', async (req, res, next) => {
    try {
      const identified = await identify(keys, req.header('authorization'), req.header('x-api-key'), req.ip ?? '');
      if ('refusal' in identified) {
        sendRefusal(res, identified.refusal);
        return;
      }
      const { caller } = identified;
      if (caller ? !hasScope(caller, 'admin') : !(keys.open && allowOpenAdmin)) {
        const code = caller || keys.open ? GatewayErrorCode.FORBIDDEN : GatewayErrorCode.UNAUTHENTICATED;
        sendRefusal(
          res,
          refusal(
            httpStatusOf(code),
            `refreshing trusted documents needs an API key or token with the scope admin${caller ? '' : ', got none'}`,
            { code },
          ),
        );
        return;
      }
      const before = source.current.operations.length;
      let report: RefreshReport;
      try {
        report = await source.refresh();
      } catch (error) {
        sendRefusal(
          res,
          refusal(
            httpStatusOf(GatewayErrorCode.TRUSTED_DOCUMENTS_UNAVAILABLE),
            `trusted documents cannot be read from ${source.name}: ${(error as Error).message}; still serving the ${before} operations loaded before`,
            { code: GatewayErrorCode.TRUSTED_DOCUMENTS_UNAVAILABLE, retryable: true },
            { 'retry-after': '5' },
          ),
        );
        return;
      }
      res.json(report);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

/**
 * Replaces, in one transaction, the operations registered for each of `callers` (EVERY_CALLER: the global ones) with
 * `operations`: what is not in the new set is revoked. Replicas see it at their next refresh.
 */
export async function publishTrustedDocuments(
  pool: pg.Pool,
  callers: readonly string[],
  operations: readonly TrustedOperation[],
): Promise<void> {
  TrustedDocuments.checked(operations, 'publish', 'publish');
  await migratePostgres(pool, 'trusted_documents', TRUSTED_DOCUMENTS_MIGRATIONS);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const caller of callers) {
      await client.query('DELETE FROM trusted_documents WHERE caller = $1', [caller]);
      for (const o of operations) {
        await client.query(
          'INSERT INTO trusted_documents (caller, id, name, type, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (caller, id) DO NOTHING',
          [caller, o.id, o.name, o.type, o.body],
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
