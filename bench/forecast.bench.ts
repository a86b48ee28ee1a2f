// npm run bench:forecast: marketForecasts of 20 pasted series (the 320 closes of examples/data/DEMO.csv,
// each scaled differently) per request, from 1 and 4 clients, against the gateway as a user runs it (its own
// process; rate limiting on with a budget above what the machine serves, logs, metrics), next to two raw
// baselines in-process, same run: the quantile network alone (onnxruntime-node on the same feature rows),
// and the network plus the GARCH(1,1) fits the gateway adds for the volatility. Writes bench/results/forecast.json.
// BENCH_PROFILE=1: instead, runs the gateway under node --cpu-prof at 1 client and prints where its CPU went.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ewmaSigma, forecastFeatures, logReturns } from '../src/domains/forecasting/forecast.features.js';
import { estimateVolatility } from '../src/domains/forecasting/forecast.volatility.js';
import { REPO_ROOT } from '../src/platform/config.js';
import { profileGateway } from './cpu-profile.js';
import { GENEROUS_RATE_LIMIT, loadWith, startGatewayProcess } from './gateway-process.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const SERIES = 20;
const CONCURRENCY = [1, 4];

const rows = readFileSync(path.join(REPO_ROOT, 'examples', 'data', 'DEMO.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [date, close] = line.split(',');
    return { date: date!, close: Number(close) };
  });
const series = Array.from({ length: SERIES }, (_, k) =>
  rows.map((r) => ({ date: r.date, close: r.close * (1 + k / 10) })),
);

/** Series per second for `work` run on all series, repeatedly, for the bench duration. */
async function rate(work: () => Promise<unknown>): Promise<number> {
  await work();
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < DURATION_S * 1000) {
    await work();
    done += SERIES;
  }
  return Math.round(done / ((performance.now() - started) / 1000));
}

async function rawBaselines() {
  const session = await ort.InferenceSession.create(path.join(REPO_ROOT, 'models', 'forecast-qnn', 'model.onnx'));
  const features = series.map((s) => {
    const r = logReturns(s.map((p) => p.close));
    return forecastFeatures(r, ewmaSigma(r));
  });
  const width = features[0]!.length;
  const data = new Float32Array(SERIES * width);
  features.forEach((f, i) => data.set(f, i * width));
  const run = () => session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, [SERIES, width]) });
  const network = await rate(run);
  const withGarch = await rate(async () => {
    await run();
    for (const s of series)
      estimateVolatility(
        s.map((p) => p.close),
        5,
      );
  });
  await session.release();
  return { network, withGarch };
}

const body = JSON.stringify({
  query:
    'query($i:[ForecastInput!]!){ marketForecasts(inputs:$i){ lastClose method points { median intervals { level lower upper } } volatility { daily annualized } } }',
  variables: { i: series.map((s) => ({ series: s, horizon: 5 })) },
});

async function loadGateway(url: string, connections: number) {
  const { itemsPerSecond, ...rest } = await loadWith(url, body, connections, DURATION_S, SERIES);
  return { ...rest, seriesPerSecond: itemsPerSecond };
}

if (process.env.BENCH_PROFILE) {
  await profileGateway({ MODELS: 'forecast-qnn', ...GENEROUS_RATE_LIMIT }, async (url) => {
    await loadGateway(url, 1); // warm-up
    return `1 client under the profiler: ${(await loadGateway(url, 1)).seriesPerSecond} series/s`;
  });
  process.exit(0);
}

const raw = await rawBaselines();
console.log(
  `raw, ${SERIES} series per call: quantile network ${raw.network} series/s; network + GARCH(1,1) fits ${raw.withGarch} series/s`,
);
const gw = await startGatewayProcess({ MODELS: 'forecast-qnn', ...GENEROUS_RATE_LIMIT });
await loadGateway(gw.url, 1); // warm-up
const runs = [];
for (const c of CONCURRENCY) {
  const r = await loadGateway(gw.url, c);
  runs.push({ ...r, ratioToNetworkWithGarch: Math.round((r.seriesPerSecond / raw.withGarch) * 100) / 100 });
}
await gw.stop();
console.log(
  `\n| clients | gateway series/s (${SERIES} per request) | p50 ms | p99 ms | errors | gateway / (network + GARCH) |\n|---|---|---|---|---|---|`,
);
for (const r of runs)
  console.log(
    `| ${r.connections} | ${r.seriesPerSecond} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${r.ratioToNetworkWithGarch} |`,
  );
const out = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model}`,
  durationS: DURATION_S,
  seriesPerRequest: SERIES,
  raw,
  gateway: runs,
};
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'forecast.json'), `${JSON.stringify(out, null, 1)}\n`);
process.exit(0);
