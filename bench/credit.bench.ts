// npm run bench:credit: creditAssessments with 1,000 accounts per request from 1 and 4 concurrent clients
// against the gateway as a user runs it (its own process; rate limits, logs, metrics and the SQLite
// decision record on, every decision written), next to raw onnxruntime-node running the same model on batches of 1,000 feature
// rows in-process, same run. Prints accounts/s and gateway/raw; writes bench/results/credit.json.
// BENCH_PROFILE=1: instead, runs the gateway under node --cpu-prof at 1 client and prints where its CPU went.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { readCreditFeatureSpec, type CardAccount } from '../src/domains/credit/credit.features.js';
import { REPO_ROOT } from '../src/platform/config.js';
import { profileGateway } from './cpu-profile.js';
import { GENEROUS_RATE_LIMIT, loadWith, probeLatency, startGatewayProcess, threadCpuMs } from './gateway-process.js';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'credit-gbt');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const BATCH = 1000;
const CONCURRENCY = [1, 4];

const vectors = JSON.parse(readFileSync(path.join(MODEL_DIR, 'test_vectors.json'), 'utf8')) as Array<{ account: CardAccount }>;
const accounts = Array.from({ length: BATCH }, (_, i) => ({ ...vectors[i % vectors.length]!.account, accountId: `bench-${i}` }));

/** The model alone: onnxruntime-node on [1000, 37] feature tensors, what the gateway's batcher sends it. */
async function rawRuntime(): Promise<number> {
  const spec = readCreditFeatureSpec(MODEL_DIR);
  const width = spec.width;
  const data = new Float32Array(BATCH * width);
  accounts.forEach((a, i) => data.set(spec.build(a), i * width));
  const session = await ort.InferenceSession.create(path.join(MODEL_DIR, 'model.onnx'), { graphOptimizationLevel: 'all' });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [BATCH, width]) };
  await session.run(feeds);
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < DURATION_S * 1000) {
    await session.run(feeds);
    done += BATCH;
  }
  await session.release();
  return Math.round(done / ((performance.now() - started) / 1000));
}

const body = JSON.stringify({
  query: 'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a){ accountId probabilityOfDefault score grade decision reasons { code contribution } } }',
  variables: { a: accounts },
});

async function loadGateway(url: string, connections: number) {
  const { itemsPerSecond, ...rest } = await loadWith(url, body, connections, DURATION_S, BATCH);
  return { ...rest, accountsPerSecond: itemsPerSecond };
}

if (process.env.BENCH_PROFILE) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-credit-'));
  await profileGateway({ MODELS: 'credit-gbt', AUDIT_DB_PATH: path.join(dir, 'audit.sqlite'), ...GENEROUS_RATE_LIMIT }, async (url) => {
    await loadGateway(url, 1); // warm-up
    return `1 client under the profiler: ${(await loadGateway(url, 1)).accountsPerSecond} accounts/s`;
  });
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const raw = await rawRuntime();
console.log(`raw onnxruntime-node, batches of ${BATCH}: ${raw} accounts/s`);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-credit-'));
const gw = await startGatewayProcess({ MODELS: 'credit-gbt', AUDIT_DB_PATH: path.join(dir, 'audit.sqlite'), ...GENEROUS_RATE_LIMIT });
await loadGateway(gw.url, 1); // warm-up
const runs = [];
for (const c of CONCURRENCY) {
  const before = threadCpuMs(gw.pid);
  const load = loadGateway(gw.url, c);
  // A health check beside the load waits for whatever holds the event loop (a batch run on it would).
  const healthz = await probeLatency(gw.url, '/healthz', load);
  const r = await load;
  const after = threadCpuMs(gw.pid);
  // The event loop's CPU per 1,000-account request: what the gateway's own work costs, steadier than
  // throughput on a machine whose speed moves between runs.
  const requests = (r.accountsPerSecond * DURATION_S) / BATCH;
  const eventLoopMsPerRequest = before && after && requests ? Math.round(((after.eventLoop - before.eventLoop) / requests) * 10) / 10 : null;
  runs.push({ ...r, ratioToRaw: Math.round((r.accountsPerSecond / raw) * 100) / 100, eventLoopMsPerRequest, healthzBesideLoad: healthz });
}
await gw.stop();
rmSync(dir, { recursive: true, force: true });

console.log(`\n| clients | gateway accounts/s (${BATCH} per request) | p50 ms | p99 ms | errors | gateway/raw | event-loop CPU ms per request | /healthz p99 / max ms beside it |\n|---|---|---|---|---|---|---|---|`);
for (const r of runs) console.log(`| ${r.connections} | ${r.accountsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.ratioToRaw} | ${r.eventLoopMsPerRequest ?? '-'} | ${r.healthzBesideLoad.p99Ms} / ${r.healthzBesideLoad.maxMs} |`);
const out = { date: new Date().toISOString(), machine: `${os.cpus().length} x ${os.cpus()[0]?.model}`, durationS: DURATION_S, batch: BATCH, rawAccountsPerSecond: raw, gateway: runs };
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'credit.json'), `${JSON.stringify(out, null, 1)}\n`);
process.exit(0);
