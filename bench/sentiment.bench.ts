// npm run bench:sentiment: gateway throughput and latency under 1/8/32/64 concurrent HTTP clients
// (one text per request), next to the raw transformers.js pipeline in-process at its best batch size (both
// model versions: the shipped one and versions/1.0.0), and next to the same model served by a Python peer
// (bench/peers/sentiment_fastapi.py: FastAPI + uvicorn + PyTorch) under the same load, same run. Also the
// p99 latency at half the gateway's best throughput (requests evenly spaced, bench/paced-load.ts). Prints the ratios and writes
// bench/results/sentiment.json. BENCH_THREADS=n sets INFERENCE_THREADS of the gateway (per model worker) and
// BENCH_WORKERS=w its MODEL_WORKERS (default 1); the raw pipeline gets w x n threads, the cores the model gets.
// BENCH_PROFILE=1: instead, runs the gateway under node --cpu-prof at 32 clients and prints where its CPU
// went (by source folder, npm package, GC, idle), the method behind the README's breakdown.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { env, pipeline } from '@huggingface/transformers';
import { REPO_ROOT } from '../src/platform/config.js';
import { profileGateway } from './cpu-profile.js';
import { GENEROUS_RATE_LIMIT, headlineBodies, headlines, loadRotating, startGatewayProcess, threadCpuMs } from './gateway-process.js';
import { pacedLoad } from './paced-load.js';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'sentiment-bert');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONCURRENCY = [1, 8, 32, 64];
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const THREADS = Number(process.env.BENCH_THREADS ?? Math.max(1, Math.floor(os.availableParallelism() / WORKERS)));
const PEER_PORT = 18_711;
const BATCH_SIZES = [1, 8, 16, 32, 64];

const texts = headlines();

async function rawPipeline(dir = MODEL_DIR): Promise<{ bestBatch: number; textsPerSecond: number; cpuMsPerText: number; byBatch: Record<number, number> }> {
  env.allowRemoteModels = false;
  const classify = await pipeline('text-classification', dir, {
    dtype: 'q8', device: 'cpu', session_options: { intraOpNumThreads: THREADS * WORKERS, interOpNumThreads: 1 },
  });
  const byBatch: Record<number, number> = {};
  const cpuMsPerText: Record<number, number> = {};
  for (const size of BATCH_SIZES) {
    const batch = Array.from({ length: size }, (_, i) => texts[i % texts.length]!);
    await classify(batch, { top_k: null });
    let done = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    while (performance.now() - started < DURATION_S * 1000 / 2) {
      await classify(batch, { top_k: null });
      done += size;
    }
    byBatch[size] = Math.round(done / ((performance.now() - started) / 1000));
    const used = process.cpuUsage(cpu);
    cpuMsPerText[size] = Math.round(((used.user + used.system) / 1000 / done) * 1000) / 1000;
  }
  const bestBatch = Number(Object.entries(byBatch).sort((a, b) => b[1] - a[1])[0]![0]);
  await classify.dispose();
  return { bestBatch, textsPerSecond: byBatch[bestBatch]!, cpuMsPerText: cpuMsPerText[bestBatch]!, byBatch };
}

/** The gateway with the sentiment model only, production settings: rate limiting on (a budget above what the machine serves), info logs, metrics. */
const GATEWAY_ENV = { MODELS: 'sentiment-bert', INFERENCE_THREADS: String(THREADS), MODEL_WORKERS: String(WORKERS), ...GENEROUS_RATE_LIMIT };

const bodies = headlineBodies(texts);
const peerBodies = texts.map((t) => JSON.stringify({ texts: [t] }));

/** `connections` clients, each sending its next request as soon as its last one is answered. */
async function loadGateway(url: string, connections: number, requestBodies = bodies) {
  const result = await loadRotating(url, requestBodies, connections, DURATION_S);
  return {
    connections, textsPerSecond: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

if (process.env.BENCH_PROFILE) {
  await profileGateway(GATEWAY_ENV, async (url) => {
    await loadGateway(url, 8); // warm-up
    return `32 clients under the profiler: ${(await loadGateway(url, 32)).textsPerSecond} texts/s`;
  });
  process.exit(0);
}

/** The Python peer, when Debian's python3-fastapi, python3-uvicorn and python3-torch are installed; else null. */
function startPeer(): Promise<{ url: string; stop: () => void } | null> {
  const child = spawn('/usr/bin/python3', [path.join(REPO_ROOT, 'bench', 'peers', 'sentiment_fastapi.py'), '--port', String(PEER_PORT)], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: String(THREADS) },
  });
  return new Promise((resolve) => {
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    child.on('error', () => resolve(null));
    child.on('exit', () => { console.log(`Python peer not run: ${err.trim().split('\n').pop() ?? 'it exited'}`); resolve(null); });
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      if (c.includes('peer ready')) resolve({ url: `http://127.0.0.1:${PEER_PORT}/predict`, stop: () => { child.removeAllListeners('exit'); child.kill('SIGTERM'); } });
    });
  });
}

const raw = await rawPipeline();
console.log(`raw transformers.js pipeline (${THREADS * WORKERS} threads), shipped version: best batch ${raw.bestBatch}, ${raw.textsPerSecond} texts/s (${JSON.stringify(raw.byBatch)})`);
const rawV1 = await rawPipeline(path.join(MODEL_DIR, 'versions', '1.0.0'));
console.log(`raw transformers.js pipeline, version 1.0.0: best batch ${rawV1.bestBatch}, ${rawV1.textsPerSecond} texts/s (${JSON.stringify(rawV1.byBatch)})`);
const gw = await startGatewayProcess(GATEWAY_ENV);
await loadGateway(gw.url, 8); // warm-up
const runs = [];
let cpuPerRequest: { eventLoopMs: number; otherThreadsMs: number; loadGeneratorMs: number } | null = null;
for (const c of CONCURRENCY) {
  const before = threadCpuMs(gw.pid);
  const ownBefore = process.cpuUsage();
  const r = { ...(await loadGateway(gw.url, c)) };
  const after = threadCpuMs(gw.pid);
  if (c === 32 && before && after) {
    // Where a request's CPU goes at 32 clients: the per-request budget that the ratio to raw leaves.
    const own = process.cpuUsage(ownBefore);
    const requests = r.textsPerSecond * DURATION_S;
    const perRequest = (ms: number) => Math.round((ms / requests) * 1000) / 1000;
    cpuPerRequest = { eventLoopMs: perRequest(after.eventLoop - before.eventLoop), otherThreadsMs: perRequest(after.otherThreads - before.otherThreads), loadGeneratorMs: perRequest((own.user + own.system) / 1000) };
  }
  runs.push({ ...r, ratioToRaw: Math.round((r.textsPerSecond / raw.textsPerSecond) * 100) / 100 });
}
const best = Math.max(...runs.map((r) => r.textsPerSecond));
const halfLoad = await pacedLoad(gw.url, bodies, Math.round(best / 2), DURATION_S, 64);
await gw.stop();

const peer = await startPeer();
const peerRuns: Array<Awaited<ReturnType<typeof loadGateway>>> = [];
if (peer) {
  await loadGateway(peer.url, 8, peerBodies); // warm-up
  for (const c of CONCURRENCY) peerRuns.push(await loadGateway(peer.url, c, peerBodies));
  peer.stop();
}

/** Resident memory of a gateway with every model loaded, after explained sentiment, credit and forecast traffic. */
async function gatewayMemory(): Promise<{ rssMB: number }> {
  const full = await startGatewayProcess({ ...GENEROUS_RATE_LIMIT, INFERENCE_THREADS: String(THREADS), MODEL_WORKERS: String(WORKERS) });
  const post = (query: string, variables: unknown) => fetch(full.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }).then((r) => r.json());
  const examples = (name: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', `${name}.variables.json`), 'utf8')) as unknown;
  for (let i = 0; i < 20; i++) {
    await post('query($t:[String!]!){ sentiment(texts:$t) { label explanation { words { word weight } } } }', { t: texts.slice(0, 32) });
    await post(readFileSync(path.join(REPO_ROOT, 'examples', 'credit.graphql'), 'utf8'), examples('credit'));
    await post(readFileSync(path.join(REPO_ROOT, 'examples', 'forecast.graphql'), 'utf8'), examples('forecast'));
  }
  const metrics = await (await fetch(full.url.replace('/graphql', '/metrics'))).text();
  await full.stop();
  const rss = Number(/^gateway_process_resident_memory_bytes (\S+)$/m.exec(metrics)?.[1]);
  if (!Number.isFinite(rss)) throw new Error('no gateway_process_resident_memory_bytes in /metrics');
  return { rssMB: Math.round(rss / 2 ** 20) };
}
const memory = await gatewayMemory();

const rows = runs.map((r, k) => ({ ...r, ratioToPeer: peerRuns[k] ? Math.round((r.textsPerSecond / peerRuns[k]!.textsPerSecond) * 100) / 100 : null }));
console.log('\n| clients | gateway texts/s | p50 ms | p99 ms | errors | gateway/raw | Python peer texts/s | peer p50 / p99 ms | gateway/peer |\n|---|---|---|---|---|---|---|---|---|');
rows.forEach((r, k) => {
  const p = peerRuns[k];
  console.log(`| ${r.connections} | ${r.textsPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.ratioToRaw} | ${p ? `${p.textsPerSecond} | ${p.p50Ms} / ${p.p99Ms} | ${r.ratioToPeer}` : '- | - | -'} |`);
});
console.log(`\ngateway with every model loaded, after traffic: RSS ${memory.rssMB} MB`);
console.log(`\nat half the best throughput (${halfLoad.offeredPerSecond} requests/s offered evenly spaced, up to 64 connections): ${halfLoad.answeredPerSecond} texts/s, p50 ${halfLoad.p50Ms} ms, p99 ${halfLoad.p99Ms} ms, ${halfLoad.errors} errors`);
if (cpuPerRequest) {
  console.log(`\nCPU per request at 32 clients: event loop ${cpuPerRequest.eventLoopMs} ms, the gateway's other threads (model worker, onnxruntime, V8) ${cpuPerRequest.otherThreadsMs} ms, load generator ${cpuPerRequest.loadGeneratorMs} ms; the raw pipeline: ${raw.cpuMsPerText} ms per text at batch ${raw.bestBatch}`);
}
const out = {
  date: new Date().toISOString(), machine: `${os.cpus().length} x ${os.cpus()[0]?.model}`, durationS: DURATION_S, threads: THREADS, workers: WORKERS,
  raw, rawVersion1: rawV1, memory, gateway: rows, cpuPerRequestAt32Clients: cpuPerRequest, halfLoad, peer: peerRuns,
};
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', `sentiment${process.env.BENCH_THREADS || process.env.BENCH_WORKERS ? `-workers-${WORKERS}-threads-${THREADS}` : ''}.json`), JSON.stringify(out, null, 1) + '\n');
process.exit(0);
