import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  auditRows,
  decisionColumns,
  decisionRows,
  transferables,
  type AuditContext,
} from '../../../src/domains/credit/credit-audit-columns.js';
import { CreditAuditLog } from '../../../src/domains/credit/credit-audit.js';
import type { CardAccount } from '../../../src/domains/credit/credit.features.js';
import type { CreditAssessmentResult } from '../../../src/domains/credit/credit.service.js';
import { sampleAccount } from '../../support/accounts.js';

const context: AuditContext = { requestId: 'req-1', caller: 'lender' };
const champion = { name: 'credit-gbt', version: '2.1.0', sha256: 'a'.repeat(64) };
const challenger = { name: 'credit-gbt', version: '2.0.0', sha256: null };
const CODES = ['DELINQUENCY_M1', 'UTILIZATION', 'PAYMENT_RATIO', 'BALANCE_GROWTH', 'AGE'];

function result(a: CardAccount, i: number): CreditAssessmentResult {
  return {
    accountId: a.accountId ?? null,
    probabilityOfDefault: (i % 97) / 97 + 1e-9 * i,
    score: 300 + (i % 550),
    grade: (['A', 'B', 'C', 'D', 'E', 'F', 'G'] as const)[i % 7]!,
    decision: (['APPROVE', 'REVIEW', 'DECLINE'] as const)[i % 3]!,
    // 0 to 4 reasons, in varying orders.
    reasons: Array.from({ length: i % 5 }, (_, k) => ({
      code: CODES[(i + k) % 5]!,
      feature: 'f',
      description: 'd',
      contribution: 1 / (k + 1),
    })),
    model: i % 11 === 0 ? challenger : champion,
  };
}

/** The rows as the record wrote them before columns: one object per decision, each hashed on its own. */
function reference(accounts: readonly CardAccount[], results: ReadonlyArray<CreditAssessmentResult | Error>) {
  return results.flatMap((r, i) =>
    r instanceof Error
      ? []
      : [
          {
            requestId: context.requestId,
            caller: context.caller,
            accountId: r.accountId,
            modelName: r.model.name,
            modelVersion: r.model.version,
            modelSha256: r.model.sha256,
            pd: r.probabilityOfDefault,
            score: r.score,
            grade: r.grade,
            decision: r.decision,
            reasonCodes: JSON.stringify(r.reasons.map((x) => x.code)),
            inputsHash: hash(
              'sha256',
              JSON.stringify([
                accounts[i]!.accountId ?? null,
                accounts[i]!.creditLimit,
                accounts[i]!.age,
                accounts[i]!.education,
                accounts[i]!.repaymentStatus,
                accounts[i]!.billAmounts,
                accounts[i]!.paymentAmounts,
              ]),
            ),
          },
        ],
  );
}

describe('credit decision columns', () => {
  it('give the same rows as one object per decision, for valid, odd and failed accounts alike', () => {
    const accounts: CardAccount[] = Array.from({ length: 300 }, (_, i) => {
      const a: CardAccount = {
        ...sampleAccount(i),
        accountId: i % 4 === 0 ? null : `acc-${i}`,
        creditLimit: 1000.5 + i * 0.1,
      };
      // Accounts the columns cannot hold as numbers: hashed where they are packed, and the same hash.
      if (i % 50 === 1) return { ...a, billAmounts: [1, 2, 3, 4, 5] };
      if (i % 50 === 2)
        return { ...a, age: Number.NaN, paymentAmounts: [-0, 1e300, 5e-324, 0.1, 0.2, 0.30000000000000004] };
      if (i % 50 === 3) return { ...a, education: 'SOMETHING' as CardAccount['education'] };
      return a;
    });
    const results = accounts.map((a, i) => (i % 13 === 5 ? new Error('bad row') : result(a, i)));
    const failed = results.filter((r) => r instanceof Error).length;
    const expected = reference(accounts, results);
    const columns = decisionColumns(context, accounts, results);
    assert.equal(columns.count, 300 - failed);
    const rows = decisionRows(columns);
    assert.equal(rows.length, expected.length);
    assert.equal(rows.length, 300 - failed);
    rows.forEach((row, i) => {
      const { at, ...rest } = row;
      assert.equal(at, columns.at);
      assert.deepEqual(rest, expected[i], `decision ${i}`);
    });
    assert.deepEqual(
      auditRows(context, accounts, results).map(({ at: _, ...r }) => r),
      expected,
    );
  });

  it('survive the trip to another thread with their typed arrays transferred', () => {
    const accounts = Array.from({ length: 20 }, (_, i) => sampleAccount(i));
    const columns = decisionColumns(context, accounts, accounts.map(result));
    const expected = decisionRows(columns);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown>((resolve) => (port2.onmessage = (e) => resolve(e.data)));
    port1.postMessage(columns, transferables(columns));
    assert.equal(columns.inputs.length, 0, 'transferred, not copied');
    return received.then((copy) => {
      assert.deepEqual(decisionRows(copy as typeof columns), expected);
      port1.close();
      port2.close();
    });
  });

  it('a small write waiting behind a large one goes first; every write is recorded, each in one piece', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'audit-order-'));
    const log = new CreditAuditLog(path.join(dir, 'audit.sqlite'));
    try {
      const batch = (request: string, n: number) => {
        const accounts = Array.from({ length: n }, (_, i) => ({ ...sampleAccount(i), accountId: `${request}-${i}` }));
        return log.record({ requestId: request, caller: 'c' }, accounts, accounts.map(result));
      };
      // large-1 goes to the thread at once; large-2 and small wait, and small overtakes large-2.
      await Promise.all([batch('large-1', 3000), batch('large-2', 3000), batch('small', 1)]);
      const rows = log.querySync({ limit: 10_000 });
      assert.equal(rows.length, 6001);
      const firstId = (request: string) => Math.min(...rows.filter((r) => r.requestId === request).map((r) => r.id));
      const lastId = (request: string) => Math.max(...rows.filter((r) => r.requestId === request).map((r) => r.id));
      assert.ok(
        lastId('large-1') < firstId('small') && firstId('small') < firstId('large-2'),
        'order: large-1, small, large-2',
      );
      for (const request of ['large-1', 'large-2'])
        assert.equal(lastId(request) - firstId(request), 2999, `${request} in consecutive rows`);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
