// npm run bench:sentiment: gateway throughput and latency under 1/8/32/64 concurrent HTTP clients
// (one text per request), next to the raw transformers.js pipeline in-process at its best batch size,
// same model, same run. Prints the ratio gateway/raw and writes bench/results/sentiment.json.
// BENCH_PROFILE=1: instead, runs the gateway under node --cpu-prof at 32 clients and prints where its CPU
// went (by source folder, npm package, GC, idle), the method behind the README's breakdown.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { parse } from 'csv-parse/sync';
import { env, pipeline } from '@huggingface/transformers';
import { REPO_ROOT } from '../src/platform/config.js';
import { cpuBreakdown } from './cpu-profile.js';
import { startGatewayProcess } from './gateway-process.js';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'sentiment-bert');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONCURRENCY = [1, 8, 32, 64];
const BATCH_SIZES = [1, 8, 16, 32, 64];

const texts = (parse(readFileSync(path.join(MODEL_DIR, 'train', 'headlines.csv')), { columns: true }) as Array<{ headline: string }>)
  .map((r) => r.headline);

async function rawPipeline(): Promise<{ bestBatch: number; textsPerSecond: number; byBatch: Record<number, number> }> {
  env.allowRemoteModels = false;
  const classify = await pipeline('text-classification', MODEL_DIR, { dtype: 'q8', device: 'cpu' });
  const byBatch: Record<number, number> = {};
  for (const size of BATCH_SIZES) {
    const batch = Array.from({ length: size }, (_, i) => texts[i % texts.length]!);
    await classify(batch, { top_k: null });
    let done = 0;
    const started = performance.now();
    while (performance.now() - started < DURATION_S * 1000 / 2) {
      await classify(batch, { top_k: null });
      done += size;
    }
    byBatch[size] = Math.round(done / ((performance.now() - started) / 1000));
  }
  const bestBatch = Number(Object.entries(byBatch).sort((a, b) => b[1] - a[1])[0]![0]);
  await classify.dispose();
  return { bestBatch, textsPerSecond: byBatch[bestBatch]!, byBatch };
}

/** The gateway with the sentiment model only, production settings, rate limiting off (one text per request). */
const startGateway = (nodeArgs: string[] = []) => startGatewayProcess({ MODELS: 'sentiment-bert', RATE_LIMIT_PER_SECOND: '0' }, nodeArgs);

// Request bodies built once: the load generator shares the machine's cores, so it should spend as
// little CPU as possible per request.
const bodies = texts.map((t) => JSON.stringify({ query: 'query($t:[String!]!){ sentiment(texts:$t) { label score } }', variables: { t: [t] } }));

async function loadGateway(url: string, connections: number) {
  let i = 0;
  const result = await autocannon({
    url, connections, duration: DURATION_S, method: 'POST', headers: { 'content-type': 'application/json' },
    requests: [{
      setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }),
    }],
  });
  return {
    connections, textsPerSecond: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

if (process.env.BENCH_PROFILE) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'));
  const gw = await startGateway(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  await loadGateway(gw.url, 8); // warm-up
  const run = await loadGateway(gw.url, 32);
  await gw.stop(); // the profile is written as the process exits
  // One profile per thread; thread 0 is the event loop (the model's worker thread has its own).
  const file = readdirSync(dir).find((f) => /\.0\.\d+\.cpuprofile$/.test(f))!;
  console.log(`32 clients under the profiler: ${run.textsPerSecond} texts/s\n\n| where | share of the gateway's CPU |\n|---|---|`);
  for (const { group, share } of cpuBreakdown(path.join(dir, file)).slice(0, 15)) console.log(`| ${group} | ${(share * 100).toFixed(1)} % |`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const raw = await rawPipeline();
console.log(`raw transformers.js pipeline: best batch ${raw.bestBatch}, ${raw.textsPerSecond} texts/s (${JSON.stringify(raw.byBatch)})`);
const gw = await startGateway();
await loadGateway(gw.url, 8); // warm-up
const runs = [];
for (const c of CONCURRENCY) {
  const r = { ...(await loadGateway(gw.url, c)) };
  runs.push({ ...r, ratioToRaw: Math.round((r.textsPerSecond / raw.textsPerSecond) * 100) / 100 });
}
await gw.stop();

console.log('\n| clients | gateway texts/s | p50 ms | p99 ms | errors | gateway/raw |\n|---|---|---|---|---|---|');
for (const r of runs) console.log(`| ${r.connections} | ${r.textsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.ratioToRaw} |`);
const out = { date: new Date().toISOString(), machine: `${os.cpus().length} x ${os.cpus()[0]?.model}`, durationS: DURATION_S, raw, gateway: runs };
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'sentiment.json'), JSON.stringify(out, null, 1) + '\n');
process.exit(0);
