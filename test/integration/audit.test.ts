import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CreditAuditLog, inputsHash } from '../../src/domains/credit/credit-audit.js';
import { hashApiKey } from '../../src/platform/api-keys.js';
import { REPO_ROOT } from '../../src/platform/config.js';
import type { Gateway } from '../../src/server/gateway.js';
import { CreditAssessmentsDocument, CreditDecisionsDocument } from '../generated/graphql.js';
import { codes, gql, startTestGateway } from '../support/gateway.js';
import { sampleAccount } from '../support/accounts.js';

const LENDER = 'lender-key-0123456789abcdef';
const AUDITOR = 'auditor-key-0123456789abcdef';
const KEYS = JSON.stringify([
  { name: 'lender', sha256: hashApiKey(LENDER), scopes: ['credit:assess'] },
  { name: 'auditor', sha256: hashApiKey(AUDITOR), scopes: ['audit:read'] },
]);

describe('credit decision audit trail', () => {
  let gw: Gateway;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'audit-'));
    gw = await startTestGateway({
      MODELS: 'credit-gbt',
      API_KEYS: KEYS,
      AUDIT_DB_PATH: path.join(dir, 'audit.sqlite'),
    });
  });
  after(async () => {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records every decision with time, request id, caller, model, inputs hash, PD, score, decision and reasons', async () => {
    const accounts = [sampleAccount(0), sampleAccount(7)];
    const res = await gql(
      gw.url,
      CreditAssessmentsDocument,
      { accounts },
      { authorization: `Bearer ${LENDER}`, 'x-request-id': 'req-audit-1' },
    );
    const answered = res.body.data!.creditAssessments;
    const records = await gql(
      gw.url,
      CreditDecisionsDocument,
      { accountId: 'acc-7' },
      { authorization: `Bearer ${AUDITOR}` },
    );
    const [r] = records.body.data!.creditDecisions;
    assert.equal(r!.requestId, res.headers.get('x-gateway-request-id'), "the gateway's own id, not the caller's");
    assert.equal(res.headers.get('x-request-id'), 'req-audit-1', "the caller's id is echoed");
    assert.equal(r!.caller, 'lender');
    assert.equal(r!.modelName, 'credit-gbt');
    assert.equal(r!.inputsHash, inputsHash(accounts[1]!));
    assert.equal(r!.probabilityOfDefault, answered[1]!.probabilityOfDefault);
    assert.equal(r!.score, answered[1]!.score);
    assert.equal(r!.decision, answered[1]!.decision);
    assert.deepEqual(
      r!.reasonCodes,
      answered[1]!.reasons.map((x) => x.code),
    );
    const all = await gql(
      gw.url,
      CreditDecisionsDocument,
      { limit: 10, from: '2000-01-01T00:00:00Z' },
      { authorization: `Bearer ${AUDITOR}` },
    );
    assert.equal(all.body.data!.creditDecisions.length, 2);
    const again = await gql(
      gw.url,
      CreditAssessmentsDocument,
      { accounts },
      { authorization: `Bearer ${LENDER}`, 'x-request-id': 'req-audit-1' },
    );
    assert.notEqual(
      again.headers.get('x-gateway-request-id'),
      res.headers.get('x-gateway-request-id'),
      'a reused caller id still gives a unique record id',
    );
  });

  it('a record that cannot be written refuses its decisions (503, none on record) without stalling other requests; the next one is recorded', async () => {
    // Another connection holds the write lock for longer than the writer waits for it (5 s).
    const holder = new Database(path.join(dir, 'audit.sqlite'));
    holder.exec('BEGIN IMMEDIATE');
    const assess = (accountId: string) =>
      gql(
        gw.url,
        CreditAssessmentsDocument,
        { accounts: [{ ...sampleAccount(3), accountId }] },
        { authorization: `Bearer ${LENDER}` },
      );
    const settled: string[] = [];
    let refused: Awaited<ReturnType<typeof assess>> | undefined;
    try {
      const batches = async () =>
        (
          await gql<{ model: { stats: { batches: number } } }, unknown>(
            gw.url,
            '{ model(name: "credit-gbt") { stats { batches } } }',
            undefined,
            { authorization: `Bearer ${LENDER}` },
          )
        ).body.data!.model.stats.batches;
      const before = await batches();
      const pending = assess('locked-out').then((r) => (settled.push('credit'), r));
      // Its batch has run: the write of its decision is what it waits for now.
      while ((await batches()) === before)
        assert.equal(settled.length, 0, 'the request settled before its batch was counted');
      // The write waits on its own thread: the event loop still answers a health check meanwhile.
      const health = await fetch(new URL('/healthz', gw.url));
      settled.push(`healthz ${health.status}`);
      refused = await pending;
      // While the record cannot be written, readiness says credit is down, and why.
      const readyz = await fetch(new URL('/readyz', gw.url));
      assert.equal(readyz.status, 503);
      const body = (await readyz.json()) as {
        status: string;
        capabilities: Array<{ name: string; ready: boolean; reason?: string }>;
      };
      assert.equal(body.status, 'degraded');
      assert.deepEqual(
        body.capabilities.map((c) => [c.name, c.ready]),
        [['credit-decision-record', false]],
      );
      assert.match(body.capabilities[0]!.reason!, /cannot write since .*locked|busy/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    assert.deepEqual(settled, ['healthz 200', 'credit']);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(refused.body.data, null);
    assert.deepEqual(codes(refused), ['AUDIT_UNAVAILABLE']);
    // Recovers by itself: the store is probed until a write succeeds.
    let readyStatus = 0;
    for (let i = 0; i < 100 && readyStatus !== 200; i++) {
      readyStatus = (await fetch(new URL('/readyz', gw.url))).status;
      if (readyStatus !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(readyStatus, 200);
    assert.equal((await assess('after-lock')).status, 200);
    const recorded = async (accountId: string) =>
      (await gql(gw.url, CreditDecisionsDocument, { accountId }, { authorization: `Bearer ${AUDITOR}` })).body.data!
        .creditDecisions.length;
    assert.equal(await recorded('locked-out'), 0);
    assert.equal(await recorded('after-lock'), 1);
  });

  it('only auditors may read it; bounds are checked', async () => {
    assert.deepEqual(codes(await gql(gw.url, CreditDecisionsDocument, {}, { authorization: `Bearer ${LENDER}` })), [
      'FORBIDDEN',
    ]);
    assert.deepEqual(codes(await gql(gw.url, CreditDecisionsDocument, {})), ['UNAUTHENTICATED']);
    const bad = await gql(gw.url, CreditDecisionsDocument, { limit: 5000 }, { authorization: `Bearer ${AUDITOR}` });
    assert.match(bad.body.errors![0]!.message, /limit must be 1\.\.1000, got 5000/);
  });
});

describe('audit trail under SIGKILL', () => {
  it('every decision the gateway answered before being killed is on record', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'audit-kill-'));
    const db = path.join(dir, 'audit.sqlite');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'src', 'main.js')], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        MODELS: 'credit-gbt',
        PRICE_DB_PATH: ':memory:',
        AUDIT_DB_PATH: db,
        RATE_LIMIT_PER_SECOND: '0',
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const url = await new Promise<string>((resolve) =>
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const m = /"url":"([^"]+)","msg":"gateway ready"/.exec(chunk);
        if (m) resolve(m[1]!);
      }),
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const answered: string[] = [];
    let killed = false;
    // Clients keep sending until the process is gone; it is killed once 50 requests have been answered.
    const client = async (c: number) => {
      for (let i = 0; !killed; i++) {
        const accounts = [
          { ...sampleAccount(i), accountId: `c${c}-${i}-a` },
          { ...sampleAccount(i + 1), accountId: `c${c}-${i}-b` },
        ];
        try {
          const res = await gql(url, CreditAssessmentsDocument, { accounts });
          for (const a of res.body.data?.creditAssessments ?? []) answered.push(a.accountId!);
          if (answered.length >= 100 && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        } catch {
          killed = true; // the connection died with the process
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, c) => client(c)));
    await exited;
    const log = new CreditAuditLog(db);
    const recorded = new Set(log.querySync({ limit: 1_000_000 }).map((r) => r.accountId));
    await log.close();
    rmSync(dir, { recursive: true, force: true });
    assert.ok(answered.length > 0, 'some requests were answered before the kill');
    const missing = answered.filter((id) => !recorded.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${answered.length} answered decisions are not on record`);
  });
});

describe('credit decision audit trail in PostgreSQL (AUDIT_DATABASE_URL)', () => {
  // A real PostgreSQL engine (PGlite, compiled to WebAssembly) behind the PostgreSQL wire protocol on loopback.
  let server: PGLiteSocketServer;
  let db: PGlite;
  let url: string;
  let gw: Gateway;
  before(async () => {
    db = await PGlite.create();
    server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
    await server.start();
    url = `postgres://postgres@${server.getServerConn()}/postgres`;
    gw = await startTestGateway({ MODELS: 'credit-gbt', API_KEYS: KEYS, AUDIT_DATABASE_URL: url });
  });
  after(async () => {
    await gw.stop();
    await server.stop();
    await db.close();
  });

  it('records decisions from concurrent requests and serves them to auditors', async () => {
    const requests = Array.from({ length: 6 }, (_, r) =>
      gql(
        gw.url,
        CreditAssessmentsDocument,
        { accounts: Array.from({ length: 5 }, (_, k) => ({ ...sampleAccount(r * 5 + k), accountId: `pg-${r}-${k}` })) },
        { authorization: `Bearer ${LENDER}`, 'x-request-id': `pg-req-${r}` },
      ),
    );
    const answered = (await Promise.all(requests)).flatMap((res) => res.body.data!.creditAssessments);
    const records = await gql(gw.url, CreditDecisionsDocument, { limit: 100 }, { authorization: `Bearer ${AUDITOR}` });
    const byAccount = new Map(records.body.data!.creditDecisions.map((r) => [r.accountId, r]));
    assert.equal(byAccount.size, 30);
    for (const a of answered) {
      const r = byAccount.get(a.accountId!)!;
      assert.equal(r.probabilityOfDefault, a.probabilityOfDefault);
      assert.equal(r.decision, a.decision);
      assert.equal(r.caller, 'lender');
      assert.match(r.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    const one = await gql(
      gw.url,
      CreditDecisionsDocument,
      { accountId: 'pg-2-3' },
      { authorization: `Bearer ${AUDITOR}` },
    );
    assert.deepEqual(
      one.body.data!.creditDecisions.map((r) => r.accountId),
      ['pg-2-3'],
    );
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM credit_decisions');
    await client.end();
    assert.equal(rows[0].n, 30, 'the rows are in PostgreSQL itself');
  });
});
