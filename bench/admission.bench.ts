// npm run bench:admission: a light caller beside one flooding the admission limit. The gateway runs as its own
// process with API keys, MAX_CONCURRENT_REQUESTS=64 and rate limits off (so admission alone decides). A "light" key
// sends one-text sentiment requests one after another; a "flood" key keeps 512 requests of 64 long texts in flight.
// Alternating rounds (light alone, light beside the flood), the same length each; reports the light caller's
// p50/p99 and refusals in each, the flood's refusals, and /healthz's worst latency beside the flood. Writes
// bench/results/admission.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashApiKey } from '../src/platform/api-keys.js';
import { REPO_ROOT } from '../src/platform/config.js';
import { startGatewayProcess } from './gateway-process.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 8000);
const FLOOD_CONNECTIONS = 512;
const LIGHT = 'bench-light-key-0123456789abc';
const FLOOD = 'bench-flood-key-0123456789abc';

const gateway = await startGatewayProcess({
  MODELS: 'sentiment-bert',
  MAX_CONCURRENT_REQUESTS: '64',
  RATE_LIMIT_PER_SECOND: '0',
  API_KEYS: JSON.stringify([
    { name: 'light', sha256: hashApiKey(LIGHT), scopes: ['sentiment:read'] },
    { name: 'flood', sha256: hashApiKey(FLOOD), scopes: ['sentiment:read'] },
  ]),
});
const longTexts = JSON.stringify({
  query: 'query($t:[String!]!){ sentiment(texts:$t) { label } }',
  variables: { t: Array.from({ length: 64 }, (_, i) => `Company ${i} reports results. `.repeat(12)) },
});
const oneText = JSON.stringify({ query: '{ sentiment(texts: ["Shares rally after upbeat guidance"]) { label } }' });
const post = (key: string, body: string) =>
  fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
  }).then(
    async (res) => {
      await res.arrayBuffer();
      return res.status;
    },
    () => 0,
  );

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};

async function round(withFlood: boolean) {
  const until = performance.now() + ROUND_MS;
  const flood = { sent: 0, refused: 0 };
  const floods = withFlood
    ? Array.from({ length: FLOOD_CONNECTIONS }, async () => {
        while (performance.now() < until) {
          flood.sent++;
          if ((await post(FLOOD, longTexts)) === 503) flood.refused++;
        }
      })
    : [];
  let healthWorst = 0;
  const health = (async () => {
    while (performance.now() < until) {
      const t = performance.now();
      await fetch(gateway.url.replace('/graphql', '/healthz')).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
      healthWorst = Math.max(healthWorst, performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const light: number[] = [];
  let lightRefused = 0;
  await new Promise((resolve) => setTimeout(resolve, withFlood ? 500 : 0)); // the flood holds every slot by now
  while (performance.now() < until) {
    const t = performance.now();
    const status = await post(LIGHT, oneText);
    if (status !== 200) lightRefused++;
    else light.push(performance.now() - t);
  }
  await Promise.all([...floods, health]);
  return {
    withFlood,
    light: {
      requests: light.length + lightRefused,
      refused: lightRefused,
      p50: percentile(light, 0.5),
      p99: percentile(light, 0.99),
    },
    flood,
    healthWorstMs: healthWorst,
  };
}

const rounds = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const withFlood of [false, true]) {
    const result = await round(withFlood);
    rounds.push(result);
    console.log(JSON.stringify(result));
  }
}
await gateway.stop();
const median = (xs: number[]) => percentile(xs, 0.5);
const solo = rounds.filter((r) => !r.withFlood);
const flooded = rounds.filter((r) => r.withFlood);
const summary = {
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
  loadavg: os.loadavg(),
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  floodConnections: FLOOD_CONNECTIONS,
  lightSoloP99Ms: median(solo.map((r) => r.light.p99)),
  lightFloodedP99Ms: median(flooded.map((r) => r.light.p99)),
  lightRefusedBesideFlood: flooded.reduce((a, r) => a + r.light.refused, 0),
  floodRefused: flooded.reduce((a, r) => a + r.flood.refused, 0),
  healthzWorstBesideFloodMs: Math.max(...flooded.map((r) => r.healthWorstMs)),
  rounds_: rounds,
};
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'admission.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(
  `light caller p99: alone ${summary.lightSoloP99Ms.toFixed(1)} ms, beside the flood ${summary.lightFloodedP99Ms.toFixed(1)} ms ` +
    `(${(summary.lightFloodedP99Ms / summary.lightSoloP99Ms).toFixed(1)}x); refused beside it: ${summary.lightRefusedBesideFlood}; flood refused ${summary.floodRefused}`,
);
