// npm run bench:priority: a high-priority caller's 1-account credit requests beside a flood of 10,000-account
// requests from a low-priority key (#32). The gateway runs as its own process with API keys and rate limits off. The
// interactive key (priority high) sends one-account requests one after another; the bulk key (priority low) keeps
// BENCH_FLOOD (default 4) requests of 10,000 accounts in flight. Alternating rounds of the same length: interactive
// alone, beside the flood, and (for comparison) the same pair of callers both at normal priority beside the same
// flood. Reports the interactive caller's p50/p99 in each and the ratio of its flooded p99 to its solo p99.
// Writes bench/results/priority.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashApiKey } from '../src/platform/api-keys.js';
import { REPO_ROOT } from '../src/platform/config.js';
import { sampleAccount } from '../test/support/accounts.js';
import { startGatewayProcess } from './gateway-process.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 8000);
const FLOOD = Number(process.env.BENCH_FLOOD ?? 4);
const KEYS = {
  interactive: { key: 'bench-interactive-key-0123456789', priority: 'high' },
  bulk: { key: 'bench-bulk-key-0123456789abcdefgh', priority: 'low' },
  peer: { key: 'bench-peer-key-0123456789abcdefgh', priority: 'normal' },
  bulkNormal: { key: 'bench-bulk-normal-key-0123456789', priority: 'normal' },
} as const;
type Who = keyof typeof KEYS;

const gateway = await startGatewayProcess({
  MODELS: 'credit-gbt',
  RATE_LIMIT_PER_SECOND: '0',
  QUEUE_TIMEOUT_MS: '120000',
  API_KEYS: JSON.stringify(
    Object.entries(KEYS).map(([name, k]) => ({
      name,
      sha256: hashApiKey(k.key),
      scopes: ['credit:assess'],
      priority: k.priority,
    })),
  ),
});
const query = 'query($a: [CardAccountInput!]!) { creditAssessments(accounts: $a) { score decision } }';
const big = JSON.stringify({ query, variables: { a: Array.from({ length: 10_000 }, (_, i) => sampleAccount(i)) } });
const one = JSON.stringify({ query, variables: { a: [sampleAccount(7)] } });
const post = (who: Who, body: string) =>
  fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[who].key}` },
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

/** One round: `light` sends one-account requests in turn for ROUND_MS, beside FLOOD loops of `flood`'s 10,000-account requests. */
async function round(kind: 'solo' | 'prioritised' | 'same-priority') {
  const [light, heavy]: [Who, Who | undefined] =
    kind === 'solo'
      ? ['interactive', undefined]
      : kind === 'prioritised'
        ? ['interactive', 'bulk']
        : ['peer', 'bulkNormal'];
  let stop = false;
  const flood = { requests: 0, failed: 0, accounts: 0 };
  let inFlight = 0;
  const floods = heavy
    ? Array.from({ length: FLOOD }, async () => {
        while (!stop) {
          inFlight++;
          const status = await post(heavy, big);
          inFlight--;
          flood.requests++;
          if (status === 200) flood.accounts += 10_000;
          else flood.failed++;
        }
      })
    : [];
  // The flood is under way (every loop has a request in flight) before the light caller starts measuring.
  while (heavy && inFlight < FLOOD) await new Promise((resolve) => setTimeout(resolve, 5));
  if (heavy) await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = performance.now();
  const latencies: number[] = [];
  let failed = 0;
  while (performance.now() - started < ROUND_MS) {
    const t = performance.now();
    if ((await post(light, one)) === 200) latencies.push(performance.now() - t);
    else failed++;
  }
  const seconds = (performance.now() - started) / 1000;
  stop = true;
  await Promise.all(floods);
  return {
    kind,
    light: {
      requests: latencies.length + failed,
      failed,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: Math.max(...latencies),
    },
    flood: { ...flood, accountsPerSecond: Math.round(flood.accounts / seconds) },
  };
}

const rounds: Array<Awaited<ReturnType<typeof round>>> = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of ['solo', 'prioritised', 'same-priority'] as const) {
    const result = await round(kind);
    rounds.push(result);
    console.log(JSON.stringify(result));
  }
}
await gateway.stop();
const median = (xs: number[]) => percentile(xs, 0.5);
const p99Of = (kind: string) => median(rounds.filter((r) => r.kind === kind).map((r) => r.light.p99));
const summary = {
  machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
  loadavg: os.loadavg(),
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  floodRequestsInFlight: FLOOD,
  soloP99Ms: p99Of('solo'),
  prioritisedP99Ms: p99Of('prioritised'),
  samePriorityP99Ms: p99Of('same-priority'),
  ratioPrioritised: p99Of('prioritised') / p99Of('solo'),
  ratioSamePriority: p99Of('same-priority') / p99Of('solo'),
  lightFailed: rounds.reduce((a, r) => a + r.light.failed, 0),
  rounds_: rounds,
};
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'priority.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(
  `interactive 1-account p99: alone ${summary.soloP99Ms.toFixed(1)} ms; beside ${FLOOD} x 10,000-account requests of a low-priority key ` +
    `${summary.prioritisedP99Ms.toFixed(1)} ms (${summary.ratioPrioritised.toFixed(1)}x); both at normal priority ${summary.samePriorityP99Ms.toFixed(1)} ms ` +
    `(${summary.ratioSamePriority.toFixed(1)}x); light requests failed: ${summary.lightFailed}`,
);
