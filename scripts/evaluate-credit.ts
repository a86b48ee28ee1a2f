// npm run evaluate:credit [-- --data ../shared/data]
// Re-measures every shipped credit-gbt version on the training run's test split, end to end: starts the gateway on its
// models, sends the test accounts (test_split.json names them by ID) in one creditAssessments request per version,
// and computes AUC, KS and Brier from the answers. Exits 1 when a figure differs from the version's metrics.json.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { REPO_ROOT, loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { startGateway } from '../src/server/gateway.js';
import { aucScore, brierScore, ksStatistic } from '../src/domains/credit/credit.evaluation.js';
import { EDUCATION_CODE } from '../src/domains/credit/credit.features.js';

const MODEL_ROOT = path.join(REPO_ROOT, 'models', 'credit-gbt');
// the dataset's education codes, by the gateway's own table (undocumented codes 0, 5 and 6 are unknown)
const EDUCATION: Record<string, string> = Object.fromEntries(
  Object.entries(EDUCATION_CODE).map(([name, code]) => [String(code), name]),
);
const TOLERANCE = 1e-4; // metrics.json rounds to 4 decimals

const args = process.argv.slice(2);
const dataDir = args.includes('--data')
  ? args[args.indexOf('--data') + 1]!
  : path.join(REPO_ROOT, '..', 'shared', 'data');
const split = JSON.parse(readFileSync(path.join(MODEL_ROOT, 'test_split.json'), 'utf8')) as {
  data: string;
  ids: number[];
};
const wanted = new Set(split.ids);
const rows = (
  parse(readFileSync(path.join(dataDir, split.data), 'utf8'), { columns: true }) as Array<Record<string, string>>
).filter((r) => wanted.has(Number(r.ID)));
if (rows.length !== wanted.size)
  throw new Error(`${split.data}: found ${rows.length} of the ${wanted.size} test accounts`);
const nums = (r: Record<string, string>, cols: string[]) => cols.map((c) => Number(r[c]));
const accounts = rows.map((r) => ({
  accountId: r.ID!,
  creditLimit: Number(r.LIMIT_BAL),
  age: Number(r.AGE),
  education: EDUCATION[r.EDUCATION!] ?? 'UNKNOWN',
  repaymentStatus: nums(r, ['PAY_0', 'PAY_2', 'PAY_3', 'PAY_4', 'PAY_5', 'PAY_6']),
  billAmounts: nums(
    r,
    [1, 2, 3, 4, 5, 6].map((k) => `BILL_AMT${k}`),
  ),
  paymentAmounts: nums(
    r,
    [1, 2, 3, 4, 5, 6].map((k) => `PAY_AMT${k}`),
  ),
}));
const labels = rows.map((r) => Number(r.default));

const config = loadConfig({
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'error',
  MODELS: 'credit-gbt',
  AUDIT_DB_PATH: ':memory:',
  PRICE_DB_PATH: ':memory:',
  RATE_LIMIT_PER_SECOND: '0',
  API_KEYS: '[]',
  // Its own gateway on loopback, for this script alone: it switches versions as an anonymous caller.
  ALLOW_OPEN_ADMIN: 'true',
});
const gateway = await startGateway(config, createLogger(config.logLevel));
const post = async (query: string, variables: unknown) => {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string }> };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data!;
};

let failed = false;
try {
  const { model } = (await post('{ model(name: "credit-gbt") { versions } }', {})) as { model: { versions: string[] } };
  for (const version of model.versions) {
    // the gateway answers with the version's own metrics.json
    const { activateModelVersion: activated } = (await post(
      'mutation($v: String!) { activateModelVersion(name: "credit-gbt", version: $v) { metrics } }',
      { v: version },
    )) as { activateModelVersion: { metrics: { test: Record<string, unknown> } } };
    const started = performance.now();
    const data = await post(
      'query($a: [CardAccountInput!]!) { creditAssessments(accounts: $a) { accountId probabilityOfDefault model { version } } }',
      { a: accounts },
    );
    const ms = performance.now() - started;
    const answers = data.creditAssessments as Array<{
      accountId: string;
      probabilityOfDefault: number;
      model: { version: string };
    }>;
    if (answers.some((a, i) => a.accountId !== accounts[i]!.accountId || a.model.version !== version))
      throw new Error(`version ${version}: answers out of order or from another version`);
    const pd = answers.map((a) => a.probabilityOfDefault);
    const measured = { auc: aucScore(labels, pd), ks: ksStatistic(labels, pd), brier: brierScore(labels, pd) };
    const reported = (activated.metrics.test.gradient_boosted_trees ?? activated.metrics.test) as {
      auc: number;
      ks: number;
      brier: number;
    };
    const off = (Object.keys(measured) as Array<keyof typeof measured>).filter(
      (k) => Math.abs(measured[k] - reported[k]) > TOLERANCE,
    );
    failed ||= off.length > 0;
    console.log(
      `${version.padEnd(16)} ${accounts.length} accounts in one request (${Math.round(ms)} ms): ` +
        `AUC ${measured.auc.toFixed(4)}, KS ${measured.ks.toFixed(4)}, Brier ${measured.brier.toFixed(4)}; ` +
        (off.length
          ? `DIFFERS from metrics.json in ${off.join(', ')} (${JSON.stringify(reported)})`
          : 'as in metrics.json'),
    );
  }
} finally {
  await gateway.stop();
}
process.exitCode = failed ? 1 : 0;
