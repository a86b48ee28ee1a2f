// npm run bench:credit: creditAssessments with 1,000 accounts per request from 1 and 4 clients, in alternating
// rounds (bench/harness.ts, BENCH_ROUNDS x BENCH_DURATION_S, default 3 x 5 s) against:
// - the credit peer (bench/peers/credit_fastapi.py: FastAPI + pydantic + the same HistGradientBoosting + XGBoost
//   champion with path-attribution reasons), checked first to give the gateway's decision on 500 of 500 accounts;
// - raw onnxruntime-node on ready [1000, 37] feature tensors in-process at 1 client (a ceiling, not a peer: it does
//   no parsing, validation, features, reasons or decision record).
// The gateway runs as a user runs it (its own process; rate limits, logs, metrics and the SQLite decision record
// on, every decision written). Reports accounts/s, CPU per 1,000 accounts of every process and the gateway's event
// loop alone; writes bench/results/credit.json. The peer's retrained boosters are cached in the OS temp folder.
// BENCH_PROFILE=1: instead, runs the gateway under node --cpu-prof at 1 client and prints where its CPU went.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import * as ort from 'onnxruntime-node';
import { readCreditFeatureSpec, type CardAccount } from '../src/domains/credit/credit.features.js';
import { REPO_ROOT } from '../src/platform/config.js';
import { profileGateway } from './cpu-profile.js';
import { GENEROUS_RATE_LIMIT, loadWith, startGatewayProcess, threadCpuMs } from './gateway-process.js';
import {
  alternate,
  httpContender,
  loadAverage,
  loopContender,
  show,
  startPythonPeer,
  writeResults,
  type Comparison,
  type Contender,
} from './harness.js';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'credit-gbt');
// Where the UCI credit data lies (as for training: ../shared/data beside the repository, or BENCH_CREDIT_DATA).
const DATA = process.env.BENCH_CREDIT_DATA ?? path.join(REPO_ROOT, '..', 'shared', 'data');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 1000;
const PEER_PORT = 18_712;
const started = { date: new Date().toISOString(), loadAverage: loadAverage() };

const vectors = JSON.parse(readFileSync(path.join(MODEL_DIR, 'test_vectors.json'), 'utf8')) as Array<{
  account: CardAccount;
}>;
const accounts = Array.from({ length: BATCH }, (_, i) => ({
  ...vectors[i % vectors.length]!.account,
  accountId: `bench-${i}`,
}));
const QUERY =
  'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ accountId probabilityOfDefault score grade decision reasons { code contribution } } }';
const body = JSON.stringify({ query: QUERY, variables: { a: accounts } });
const peerBody = JSON.stringify({ accounts });
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-credit-'));
const GATEWAY_ENV = { MODELS: 'credit-gbt', AUDIT_DB_PATH: path.join(dir, 'audit.sqlite'), ...GENEROUS_RATE_LIMIT };

if (process.env.BENCH_PROFILE) {
  await profileGateway(GATEWAY_ENV, async (url) => {
    await loadWith(url, body, 1, DURATION_S, BATCH); // warm-up
    return `1 client under the profiler: ${(await loadWith(url, body, 1, DURATION_S, BATCH)).itemsPerSecond} accounts/s`;
  });
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

/** 500 accounts of the UCI data (its first rows), for the decision check: more variety than the 8 test vectors. */
function checkAccounts(): CardAccount[] {
  const education: Record<string, CardAccount['education']> = {
    1: 'GRADUATE_SCHOOL',
    2: 'UNIVERSITY',
    3: 'HIGH_SCHOOL',
    4: 'OTHER',
  };
  const rows = parse(readFileSync(path.join(DATA, 'credit', 'credit_card_default.csv')), {
    columns: true,
    to: 500,
  }) as Array<Record<string, string>>;
  const six = (r: Record<string, string>, names: string[]) => names.map((n) => Number(r[n]));
  return rows.map((r) => ({
    accountId: `uci-${r.ID}`,
    creditLimit: Number(r.LIMIT_BAL),
    age: Number(r.AGE),
    education: education[r.EDUCATION!] ?? 'UNKNOWN',
    repaymentStatus: six(r, ['PAY_0', 'PAY_2', 'PAY_3', 'PAY_4', 'PAY_5', 'PAY_6']),
    billAmounts: six(
      r,
      [1, 2, 3, 4, 5, 6].map((k) => `BILL_AMT${k}`),
    ),
    paymentAmounts: six(
      r,
      [1, 2, 3, 4, 5, 6].map((k) => `PAY_AMT${k}`),
    ),
  }));
}

/** The model alone: onnxruntime-node on [1000, 37] feature tensors, what the gateway's batcher sends it. */
async function rawContender(): Promise<Contender> {
  const spec = readCreditFeatureSpec(MODEL_DIR);
  const data = new Float32Array(BATCH * spec.width);
  accounts.forEach((a, i) => data.set(spec.build(a), i * spec.width));
  const session = await ort.InferenceSession.create(path.join(MODEL_DIR, 'model.onnx'), {
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [BATCH, spec.width]) };
  return loopContender('raw onnxruntime', () => session.run(feeds), BATCH);
}

const gw = await startGatewayProcess(GATEWAY_ENV);
const peer = await startPythonPeer('credit_fastapi.py', PEER_PORT, [
  '--data',
  DATA,
  '--cache',
  path.join(os.tmpdir(), 'credit-peer-boosters.pkl'),
  '--threads',
  String(os.availableParallelism()),
]);
const post = async (url: string, b: unknown) =>
  (
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) })
  ).json();
let decisions: { same: number; of: number } | null = null;
if (peer) {
  const check = checkAccounts();
  const g = (await post(gw.url, { query: QUERY, variables: { a: check } })) as {
    data: { creditAssessments: Array<{ decision: string }> };
  };
  const p = (await post(`${peer.url}/assess`, { accounts: check })) as Array<{ decision: string }>;
  decisions = {
    same: check.filter((_, i) => g.data.creditAssessments[i]!.decision === p[i]!.decision).length,
    of: check.length,
  };
  console.log(`credit peer's decisions equal the gateway's on ${decisions.same} of ${decisions.of} accounts`);
}

/** The gateway, with its event loop's CPU per 1,000 accounts (its main thread, from /proc) beside the process's. */
function gatewayContender(connections: number): Contender {
  const http = httpContender('gateway', gw.url, { gateway: gw.pid }, [body], connections, BATCH);
  return {
    ...http,
    round: async (durationS) => {
      const before = threadCpuMs(gw.pid);
      const outcome = await http.round(durationS);
      const after = threadCpuMs(gw.pid);
      const eventLoopMsPer1000 =
        before && after && outcome.items
          ? Math.round(((after.eventLoop - before.eventLoop) / outcome.items) * 1000 * 10) / 10
          : NaN;
      return { ...outcome, extra: { eventLoopMsPer1000Accounts: eventLoopMsPer1000 } };
    },
  };
}

await loadWith(gw.url, body, 1, 2, BATCH); // warm-up
if (peer) await loadWith(`${peer.url}/assess`, peerBody, 1, 2, BATCH);
const raw = await rawContender();
const byClients: Record<number, Comparison> = {};
for (const c of [1, 4]) {
  const contenders = [
    gatewayContender(c),
    ...(peer ? [httpContender('credit peer', `${peer.url}/assess`, { peer: peer.pid }, [peerBody], c, BATCH)] : []),
    ...(c === 1 ? [raw] : []),
  ];
  console.log(`\n${c} client(s), ${BATCH} accounts per request`);
  byClients[c] = await alternate(`${c} client(s)`, contenders, ROUNDS, DURATION_S);
  for (const [pair, ratio] of Object.entries(byClients[c]!.ratios)) console.log(`  ${pair}: ${show(ratio)}`);
}
peer?.stop();
await gw.stop();
rmSync(dir, { recursive: true, force: true });

const per1000 = (s: { median: number } | undefined) => (s ? Math.round(s.median * 1000 * 10) / 10 : '-');
console.log(
  `\n| clients | gateway accounts/s | p99 ms | gateway CPU ms per 1,000 (all threads / event loop) | peer accounts/s | peer p99 ms | peer CPU ms per 1,000 | gateway/peer (median, min-max) |\n|---|---|---|---|---|---|---|---|`,
);
for (const c of [1, 4]) {
  const g = byClients[c]!.contenders.gateway!;
  const p = byClients[c]!.contenders['credit peer'];
  console.log(
    `| ${c} | ${g.itemsPerSecond.median} | ${g.p99Ms?.median} | ${per1000(g.cpuMsPerItem.gateway)} / ${g.extra?.eventLoopMsPer1000Accounts?.median} | ${p ? `${p.itemsPerSecond.median} | ${p.p99Ms?.median} | ${per1000(p.cpuMsPerItem.peer)}` : '- | - | -'} | ${show(byClients[c]!.ratios['gateway/credit peer'])} |`,
  );
}
console.log(
  `gateway/raw onnxruntime at 1 client (a ceiling): ${show(byClients[1]!.ratios['gateway/raw onnxruntime'])}`,
);
const eventLoop = byClients[1]!.contenders.gateway!.extra?.eventLoopMsPer1000Accounts;
const targets = [
  {
    target: 'gateway/credit peer >= 2 at 1 client',
    measured: byClients[1]!.ratios['gateway/credit peer'] ?? null,
    met: byClients[1]!.ratios['gateway/credit peer'] ? byClients[1]!.ratios['gateway/credit peer']!.median >= 2 : null,
  },
  {
    target: 'gateway/credit peer >= 2 at 4 clients',
    measured: byClients[4]!.ratios['gateway/credit peer'] ?? null,
    met: byClients[4]!.ratios['gateway/credit peer'] ? byClients[4]!.ratios['gateway/credit peer']!.median >= 2 : null,
  },
  {
    target: 'event-loop CPU <= 15 ms per 1,000 accounts (1 client)',
    measured: eventLoop ?? null,
    met: eventLoop ? eventLoop.median <= 15 : null,
  },
];
console.log('\n| target | measured (median, min-max) | met |\n|---|---|---|');
for (const t of targets)
  console.log(`| ${t.target} | ${show(t.measured ?? undefined, 1)} | ${t.met === null ? '-' : t.met ? 'yes' : 'no'} |`);
writeResults('credit', started, {
  rounds: ROUNDS,
  durationS: DURATION_S,
  batch: BATCH,
  peer: { script: 'credit_fastapi.py', decisions },
  targets,
  comparisons: Object.values(byClients),
});
process.exit(0);
