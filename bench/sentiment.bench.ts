// npm run bench:sentiment: every comparison in alternating rounds (bench/harness.ts), BENCH_ROUNDS rounds of
// BENCH_DURATION_S seconds each (default 3 x 5 s), one headline per request:
// - the raw paths in-process: a plain onnxruntime-node session on pre-tokenised input beside transformers.js'
//   `pipeline`, at batch 8 and 64, and the session with graph optimisations 'all' against 'basic';
// - the model's limit: FLOPs per headline from its shape, and a GEMM probe (MatMul fp32, MatMulInteger int8, the
//   model's FFN shape) for the machine's rate, so each throughput is also a share of what the cores can do;
// - the sentiment runtime's length-aware batching against one padded batch, on headlines and on a mixed batch;
// - the gateway (its own process, production settings) against the fair Python peer
//   (bench/peers/sentiment_fastapi_fair.py: asyncio micro-batcher, one inference thread, int8) at 1 / 32 / 64
//   clients, and against the fastest raw path at 64 clients; the peer must give the gateway's label on 200 of 200
//   texts first. BENCH_NAIVE_PEER=1 adds the naive peer (bench/peers/sentiment_fastapi_naive.py) at 32 clients;
// - the p99 at half the gateway's peak, requests evenly spaced (bench/paced-load.ts).
// Writes bench/results/sentiment.json. BENCH_THREADS=n sets INFERENCE_THREADS of the gateway (per model worker)
// and BENCH_WORKERS=w its MODEL_WORKERS; the raw paths and the peer get w x n threads. BENCH_MEMORY=1 also
// measures the RSS of a gateway with every model. BENCH_PROFILE=1: instead, profiles the gateway at 32 clients.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AutoModelForSequenceClassification, AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { REPO_ROOT } from '../src/platform/config.js';
import { TextClassificationRuntime } from '../src/runtime/transformers-runtime.js';
import { profileGateway } from './cpu-profile.js';
import {
  GENEROUS_RATE_LIMIT,
  headlineBodies,
  headlines,
  loadRotating,
  startGatewayProcess,
} from './gateway-process.js';
import {
  alternate,
  httpContender,
  loadAverage,
  loopContender,
  show,
  startPythonPeer,
  writeResults,
  type Comparison,
} from './harness.js';
import { pacedLoad } from './paced-load.js';

const MODEL_DIR = path.join(REPO_ROOT, 'models', 'sentiment-bert');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const THREADS = Number(process.env.BENCH_THREADS ?? Math.max(1, Math.floor(os.availableParallelism() / WORKERS)));
const CORES = THREADS * WORKERS;
const PEER_PORT = 18_711;
const started = { date: new Date().toISOString(), loadAverage: loadAverage() };

const texts = headlines();
const bodies = headlineBodies(texts);
const peerBodies = texts.map((t) => JSON.stringify({ texts: [t] }));
const GATEWAY_ENV = {
  MODELS: 'sentiment-bert',
  INFERENCE_THREADS: String(THREADS),
  MODEL_WORKERS: String(WORKERS),
  ...GENEROUS_RATE_LIMIT,
};

if (process.env.BENCH_PROFILE) {
  await profileGateway(GATEWAY_ENV, async (url) => {
    await loadRotating(url, bodies, 8, DURATION_S); // warm-up
    return `32 clients under the profiler: ${Math.round((await loadRotating(url, bodies, 32, DURATION_S)).requests.average)} texts/s`;
  });
  process.exit(0);
}

/** The project-written sentences (data/written), for the label check and the long texts of the mixed batch. */
function writtenTexts(): string[] {
  const dir = path.join(MODEL_DIR, 'data', 'written');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tsv'))
    .sort()
    .flatMap((f) =>
      readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((line) => line.split('\t')[0]!),
    );
}
const written = writtenTexts();
const checkTexts = [...texts, ...written.slice(0, 200 - texts.length)];
// Long texts: five written sentences each (about 100-128 tokens).
const longTexts = Array.from({ length: 16 }, (_, i) => written.slice(1000 + i * 5, 1005 + i * 5).join(' '));

// ---- the raw paths, in-process ----
env.allowRemoteModels = false;
const sessionOptions = {
  intraOpNumThreads: CORES,
  interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};
const classify = await pipeline('text-classification', MODEL_DIR, {
  dtype: 'q8',
  device: 'cpu',
  session_options: sessionOptions,
});
const tokenizer = await AutoTokenizer.from_pretrained(MODEL_DIR);
const onnxFile = path.join(MODEL_DIR, 'onnx', 'model_quantized.onnx');
const session = await ort.InferenceSession.create(onnxFile, { ...sessionOptions, graphOptimizationLevel: 'all' });
const basicSession = await ort.InferenceSession.create(onnxFile, {
  ...sessionOptions,
  graphOptimizationLevel: 'basic',
});

/** `count` batches of `size` headlines, tokenised and padded once: what a raw session is fed. */
function pretokenised(size: number, count = 4): Array<Record<string, ort.Tensor>> {
  return Array.from({ length: count }, (_, k) => {
    const batch = Array.from({ length: size }, (_, i) => texts[(k * size + i) % texts.length]!);
    const enc = tokenizer(batch, { padding: true, truncation: true, max_length: 128 }) as unknown as Record<
      string,
      { data: BigInt64Array; dims: number[] }
    >;
    return Object.fromEntries(
      session.inputNames.map((name) => [name, new ort.Tensor('int64', enc[name]!.data, enc[name]!.dims)]),
    );
  });
}
const rotate = <T>(items: readonly T[]) => {
  let i = 0;
  return () => items[i++ % items.length]!;
};
const rawOrt = (size: number, s = session, name = `ort session, batch ${size}`) => {
  const next = rotate(pretokenised(size));
  return loopContender(name, () => s.run(next()), size);
};
const rawPipeline = (size: number) => {
  const next = rotate(
    Array.from({ length: 4 }, (_, k) => Array.from({ length: size }, (_, i) => texts[(k * size + i) % texts.length]!)),
  );
  return loopContender(`pipeline, batch ${size}`, () => classify(next(), { top_k: null }), size);
};

const comparisons: Comparison[] = [];
const run = async (label: string, contenders: Parameters<typeof alternate>[1]) => {
  console.log(`\n${label}`);
  const c = await alternate(label, contenders, ROUNDS, DURATION_S);
  comparisons.push(c);
  for (const [pair, ratio] of Object.entries(c.ratios)) console.log(`  ${pair}: ${show(ratio)}`);
  return c;
};

const raw8 = await run('raw paths, batch 8', [rawOrt(8), rawPipeline(8)]);
const raw64 = await run('raw paths, batch 64', [rawOrt(64), rawPipeline(64)]);
await run('onnxruntime graph optimisations, batch 64', [
  rawOrt(64),
  rawOrt(64, basicSession, 'ort session basic, batch 64'),
]);

// ---- the limit ----
const config = JSON.parse(readFileSync(path.join(MODEL_DIR, 'config.json'), 'utf8')) as {
  num_hidden_layers: number;
  hidden_size: number;
  intermediate_size: number;
  id2label: Record<string, string>;
};
/** Multiply-adds x 2 of one text of `tokens` tokens: per layer Q, K, V, O (4 h^2), FFN (2 h i), attention (2 T h), then pooler and classifier. */
const flopsPerText = (tokens: number) => {
  const { num_hidden_layers: L, hidden_size: h, intermediate_size: i } = config;
  return 2 * (L * tokens * (4 * h * h + 2 * h * i + 2 * tokens * h) + h * h + h * Object.keys(config.id2label).length);
};
const tokenCounts = texts.map((t) => (tokenizer(t) as unknown as { input_ids: { dims: number[] } }).input_ids.dims[1]!);
const meanTokens = tokenCounts.reduce((a, b) => a + b, 0) / tokenCounts.length;
const padded64 = pretokenised(64).reduce((a, f) => a + f.input_ids!.dims[1]!, 0) / 4;
const probeDir = mkdtempSync(path.join(os.tmpdir(), 'gemm-probe-'));
// The FFN's second product at batch 64: the model's largest GEMM shape.
const [M, K, N] = [64 * Math.round(meanTokens), config.intermediate_size, config.hidden_size];
const made = spawnSync(
  '/usr/bin/python3',
  [path.join(REPO_ROOT, 'bench', 'gemm_probe_models.py'), probeDir, String(M), String(K), String(N)],
  { encoding: 'utf8' },
);
let limit: Record<string, unknown> | null = null;
if (made.status === 0) {
  const probe = async (file: string, type: 'float32' | 'uint8', name: string) => {
    // One thread, rated by its CPU time: a core's rate, which a loaded machine's wall clock would understate.
    const s = await ort.InferenceSession.create(path.join(probeDir, file), {
      ...sessionOptions,
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const data =
      type === 'float32'
        ? Float32Array.from({ length: M * K }, () => Math.random())
        : Uint8Array.from({ length: M * K }, () => Math.floor(Math.random() * 256));
    const feeds = { x: new ort.Tensor(type, data, [M, K]) };
    return loopContender(name, () => s.run(feeds), 1);
  };
  const gemm = await run(`GEMM probe [${M} x ${K}] x [${K} x ${N}], one thread`, [
    await probe('matmul_int8.onnx', 'uint8', 'MatMulInteger int8'),
    await probe('matmul_fp32.onnx', 'float32', 'MatMul fp32'),
  ]);
  // GOP per CPU-second of one core; the limit is that times the cores the model gets.
  const gopsPerCore = (name: string) =>
    Math.round((2 * M * K * N) / (gemm.contenders[name]!.cpuMsPerItem.self!.median / 1000) / 1e9);
  const int8GopsPerCore = gopsPerCore('MatMulInteger int8');
  const fp32GopsPerCore = gopsPerCore('MatMul fp32');
  limit = {
    shape: { layers: config.num_hidden_layers, hidden: config.hidden_size, intermediate: config.intermediate_size },
    meanTokensPerHeadline: Math.round(meanTokens * 10) / 10,
    paddedTokensAtBatch64: padded64,
    mflopPerHeadline: Math.round(flopsPerText(meanTokens) / 1e5) / 10,
    mflopPerHeadlinePadded: Math.round(flopsPerText(padded64) / 1e5) / 10,
    cores: CORES,
    int8GopsPerCore,
    fp32GopsPerCore,
    int8LimitHeadlinesPerSecond: Math.round((int8GopsPerCore * CORES * 1e9) / flopsPerText(meanTokens)),
    fp32LimitHeadlinesPerSecond: Math.round((fp32GopsPerCore * CORES * 1e9) / flopsPerText(meanTokens)),
    /** CPU ms per headline at the int8 rate: what the raw path's CPU per text is compared with, load or not. */
    int8CpuMsPerHeadline: Math.round((flopsPerText(meanTokens) / (int8GopsPerCore * 1e9)) * 1e6) / 1e3,
  };
  console.log(`limit: ${JSON.stringify(limit)}`);
} else {
  console.log(`GEMM probe not run (python3 with onnx needed): ${made.stderr.trim().split('\n').pop()}`);
}
const share = (perSecond: number) =>
  limit ? Math.round((perSecond / (limit.int8LimitHeadlinesPerSecond as number)) * 1000) / 10 : null;
/** The same share from CPU time per text, which a loaded machine does not deflate. */
const cpuShare = (cpuMsPerText: number | undefined) =>
  limit && cpuMsPerText ? Math.round(((limit.int8CpuMsPerHeadline as number) / cpuMsPerText) * 1000) / 10 : null;

// ---- length-aware batching in the sentiment runtime, against one padded batch ----
const runtime = new TextClassificationRuntime({ source: MODEL_DIR, dtype: 'q8', intraOpThreads: CORES });
await runtime.load();
const plainModel = await AutoModelForSequenceClassification.from_pretrained(MODEL_DIR, {
  dtype: 'q8',
  device: 'cpu',
  session_options: sessionOptions,
});
const onePaddedBatch = async (batch: string[]) =>
  plainModel(tokenizer(batch, { padding: true, truncation: true, max_length: 128 }));
const mixed = [...texts.slice(0, 48), ...longTexts.slice(0, 8), ...texts.slice(0, 8)];
const headlines64 = Array.from({ length: 64 }, (_, i) => texts[i % texts.length]!);
await run('length-aware batching, 64 headlines', [
  loopContender('token budget', () => runtime.run(headlines64), 64),
  loopContender('one padded batch', () => onePaddedBatch(headlines64), 64),
]);
await run('length-aware batching, 56 headlines + 8 long texts', [
  loopContender('token budget', () => runtime.run(mixed), 64),
  loopContender('one padded batch', () => onePaddedBatch(mixed), 64),
]);
await runtime.dispose();
await plainModel.dispose();

// ---- the gateway against the fair peer and the fastest raw path ----
const gw = await startGatewayProcess(GATEWAY_ENV);
const peerArgs = ['--threads', String(CORES), ...(process.env.BENCH_PEER_FP32 ? [] : ['--int8'])];
const peer = await startPythonPeer('sentiment_fastapi_fair.py', PEER_PORT, peerArgs);
const post = async (url: string, body: unknown) =>
  (
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  ).json();
/** Labels of `list` from the gateway and from the peer, 50 texts per request. */
async function labelCheck(peerUrl: string) {
  let same = 0;
  for (let i = 0; i < checkTexts.length; i += 50) {
    const chunk = checkTexts.slice(i, i + 50);
    const g = (await post(gw.url, {
      query: 'query($t:[String!]!){ sentiment(texts:$t) { label } }',
      variables: { t: chunk },
    })) as { data: { sentiment: Array<{ label: string }> } };
    const p = (await post(`${peerUrl}/predict`, { texts: chunk })) as Array<{ label: string }>;
    chunk.forEach((_, k) => {
      if (g.data.sentiment[k]!.label.toLowerCase() === p[k]!.label.toLowerCase()) same++;
    });
  }
  return { same, of: checkTexts.length };
}
const labels = peer ? await labelCheck(peer.url) : null;
if (labels) console.log(`\nfair peer's labels equal the gateway's on ${labels.same} of ${labels.of} texts`);
await loadRotating(gw.url, bodies, 8, 2); // warm-up
const gateway = (c: number) => httpContender('gateway', gw.url, { gateway: gw.pid }, bodies, c);
const fair = (c: number) => httpContender('fair peer', `${peer!.url}/predict`, { peer: peer!.pid }, peerBodies, c);
const byClients: Record<number, Comparison> = {};
for (const c of [1, 32, 64]) {
  const contenders = [gateway(c), ...(peer ? [fair(c)] : []), ...(c === 64 ? [rawOrt(64)] : [])];
  byClients[c] = await run(`${c} clients${c === 64 ? ' (and the raw session in-process)' : ''}`, contenders);
}
peer?.stop();
let naive: Comparison | null = null;
if (process.env.BENCH_NAIVE_PEER) {
  const n = await startPythonPeer('sentiment_fastapi_naive.py', PEER_PORT + 1, [], { OMP_NUM_THREADS: String(CORES) });
  if (n) {
    naive = await run('32 clients, naive peer', [
      gateway(32),
      httpContender('naive peer', `${n.url}/predict`, { peer: n.pid }, peerBodies, 32),
    ]);
    n.stop();
  }
}
const peak = Math.max(...[1, 32, 64].map((c) => byClients[c]!.contenders.gateway!.itemsPerSecond.median));
const halfLoad = await pacedLoad(gw.url, bodies, Math.round(peak / 2), DURATION_S, 64);
await gw.stop();

/** Resident memory of a gateway with every model loaded, after explained sentiment, credit and forecast traffic. */
async function gatewayMemory(): Promise<{ rssMB: number }> {
  const full = await startGatewayProcess({
    ...GENEROUS_RATE_LIMIT,
    INFERENCE_THREADS: String(THREADS),
    MODEL_WORKERS: String(WORKERS),
  });
  const examples = (name: string) =>
    JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', `${name}.variables.json`), 'utf8')) as unknown;
  for (let i = 0; i < 20; i++) {
    await post(full.url, {
      query: 'query($t:[String!]!){ sentiment(texts:$t) { label explanation { words { word weight } } } }',
      variables: { t: texts.slice(0, 32) },
    });
    await post(full.url, {
      query: readFileSync(path.join(REPO_ROOT, 'examples', 'credit.graphql'), 'utf8'),
      variables: examples('credit'),
    });
    await post(full.url, {
      query: readFileSync(path.join(REPO_ROOT, 'examples', 'forecast.graphql'), 'utf8'),
      variables: examples('forecast'),
    });
  }
  const metrics = await (await fetch(full.url.replace('/graphql', '/metrics'))).text();
  await full.stop();
  const rss = Number(/^gateway_process_resident_memory_bytes (\S+)$/m.exec(metrics)?.[1]);
  if (!Number.isFinite(rss)) throw new Error('no gateway_process_resident_memory_bytes in /metrics');
  return { rssMB: Math.round(rss / 2 ** 20) };
}
const memory = process.env.BENCH_MEMORY ? await gatewayMemory() : null;

// ---- the summary ----
const median = (c: Comparison, name: string) => c.contenders[name]!.itemsPerSecond.median;
const ratio = (c: Comparison | undefined, pair: string) => c?.ratios[pair];
const targets = [
  { target: 'gateway/fair peer >= 2 at 1 client', measured: ratio(byClients[1], 'gateway/fair peer'), goal: 2 },
  { target: 'gateway/fair peer >= 3 at 32 clients', measured: ratio(byClients[32], 'gateway/fair peer'), goal: 3 },
  { target: 'gateway/fair peer >= 3 at 64 clients', measured: ratio(byClients[64], 'gateway/fair peer'), goal: 3 },
  {
    target: 'gateway/raw ort session >= 0.8 at 64 clients',
    measured: ratio(byClients[64], 'gateway/ort session, batch 64'),
    goal: 0.8,
  },
];
const rawShare = share(median(raw64, 'ort session, batch 64'));
const rawCpuShare = cpuShare(raw64.contenders['ort session, batch 64']!.cpuMsPerItem.self?.median);
console.log(
  '\n| clients | gateway texts/s | p50 / p99 ms | gateway CPU ms/text | fair peer texts/s | peer p50 / p99 ms | peer CPU ms/text | gateway/peer (median, min-max) | share of int8 limit (wall / CPU) |\n|---|---|---|---|---|---|---|---|---|',
);
for (const c of [1, 32, 64]) {
  const cmp = byClients[c]!;
  const g = cmp.contenders.gateway!;
  const p = cmp.contenders['fair peer'];
  const mid = (x: typeof g) => x.rounds[Math.floor(x.rounds.length / 2)]!;
  console.log(
    `| ${c} | ${g.itemsPerSecond.median} | ${mid(g).p50Ms} / ${g.p99Ms?.median} | ${g.cpuMsPerItem.gateway?.median} | ${p ? `${p.itemsPerSecond.median} | ${mid(p).p50Ms} / ${p.p99Ms?.median} | ${p.cpuMsPerItem.peer?.median}` : '- | - | -'} | ${show(cmp.ratios['gateway/fair peer'])} | ${share(g.itemsPerSecond.median) ?? '-'} / ${cpuShare(g.cpuMsPerItem.gateway?.median) ?? '-'} % |`,
  );
}
console.log(
  `\nraw ort session / pipeline, texts/s: batch 8 ${show(raw8.ratios['ort session, batch 8/pipeline, batch 8'])}, batch 64 ${show(raw64.ratios['ort session, batch 64/pipeline, batch 64'])}; raw session at batch 64: ${median(raw64, 'ort session, batch 64')} texts/s = ${share(median(raw64, 'ort session, batch 64')) ?? '-'} % of the int8 limit by wall clock, ${rawCpuShare ?? '-'} % by CPU time per text`,
);
console.log(
  `at half the gateway's peak (${halfLoad.offeredPerSecond} requests/s, evenly spaced): p50 ${halfLoad.p50Ms} ms, p99 ${halfLoad.p99Ms} ms, ${halfLoad.errors} errors`,
);
if (memory) console.log(`gateway with every model loaded, after traffic: RSS ${memory.rssMB} MB`);
console.log('\n| target | measured (median, min-max over rounds) | met |\n|---|---|---|');
for (const t of targets)
  console.log(
    `| ${t.target} | ${show(t.measured)} | ${t.measured ? (t.measured.median >= t.goal ? 'yes' : 'no') : '-'} |`,
  );
console.log(
  `| raw >= 50 % of the int8 limit | ${rawShare ?? '-'} % by wall clock, ${rawCpuShare ?? '-'} % by CPU time | ${rawShare === null ? '-' : rawShare >= 50 ? 'yes' : 'no'} |`,
);
console.log(`| p99 <= 25 ms at half peak | ${halfLoad.p99Ms} ms | ${halfLoad.p99Ms <= 25 ? 'yes' : 'no'} |`);

const name = `sentiment${process.env.BENCH_THREADS || process.env.BENCH_WORKERS ? `-workers-${WORKERS}-threads-${THREADS}` : ''}`;
writeResults(name, started, {
  rounds: ROUNDS,
  durationS: DURATION_S,
  threads: THREADS,
  workers: WORKERS,
  peer: { script: 'sentiment_fastapi_fair.py', args: peerArgs, labels },
  limit,
  rawShareOfInt8Limit: { wallClockPercent: rawShare, cpuTimePercent: rawCpuShare },
  halfLoad,
  memory,
  targets,
  comparisons,
  naive: naive ? naive.label : null,
});
process.exit(0);
