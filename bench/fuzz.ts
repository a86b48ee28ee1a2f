// npm run fuzz [-- CASES]: starts the gateway as its own process and sends CASES (default 20,000) seeded random
// requests, 8 at a time: valid ones with one field mutated to an extreme, malformed bodies and headers, odd GraphQL
// documents (operation names that match nothing, fragments that fan out, deep nesting), series ending in denormal
// or huge prices. API keys and rate limits are on (FUZZ_OPEN=1: open, no limits, so more requests reach the
// resolvers): requests carry a full key, a narrow one, a wrong one or none. /healthz is polled beside the load: its
// worst latency bounds how long any request held the event loop. Fails on any 5xx but a documented 503
// (OVERLOADED, SHUTTING_DOWN, MODEL_UNAVAILABLE, AUDIT_UNAVAILABLE), any INTERNAL_SERVER_ERROR or answer without a
// code, an unanswered request, or a gateway not ready afterwards or not exiting 0 on SIGTERM. Writes
// bench/results/fuzz.json (FUZZ_OUT to write elsewhere).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/platform/config.js';
import { seededRandom } from '../src/platform/seeded-random.js';
import { hashApiKey } from '../src/platform/api-keys.js';

const CASES = Number(process.argv[2] ?? 20_000);
const OPEN = process.env.FUZZ_OPEN === '1';
const OUT = process.env.FUZZ_OUT ?? path.join(REPO_ROOT, 'bench', 'results', 'fuzz.json');
const FULL_KEY = 'fuzz-full-key-0123456789abcdef';
const NARROW_KEY = 'fuzz-narrow-key-0123456789abcde';
/** 503s the gateway documents: the caller should retry (Retry-After). */
const DOCUMENTED_503 = new Set(['OVERLOADED', 'SHUTTING_DOWN', 'MODEL_UNAVAILABLE', 'AUDIT_UNAVAILABLE']);
const CONCURRENCY = 8;

const random = seededRandom(20261124);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  1e-300,
  -1e-300,
  1e300,
  -1e300,
  3.5e38,
  1e-45,
  1e10,
  1e12,
  1e15,
  2 ** 31,
  -(2 ** 31),
  2 ** 53,
  3.7,
  -2,
  9,
  10,
  100,
  18,
  101,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
];
const STRINGS = [
  '',
  ' ',
  '\t\n',
  'x',
  'Shares rally',
  '💥'.repeat(50),
  'a'.repeat(2001),
  '<script>alert(1)</script>',
  '"; DROP TABLE prices; --',
  '\u0000',
  'ÄÖÜ ß',
  '2021-02-30',
  '2021-01-01',
  'AAPL',
  'aapl',
  'A'.repeat(30),
];
const anyValue = (): unknown =>
  pick<() => unknown>([
    () => pick(NUMBERS),
    () => pick(STRINGS),
    () => null,
    () => true,
    () => [],
    () => ({}),
    () => [pick(NUMBERS)],
    () => Array.from({ length: int(0, 20) }, () => pick(NUMBERS)),
    () => ({ nested: pick(STRINGS) }),
  ])();

const account = () => ({
  accountId: `fz-${int(0, 1e6)}`,
  creditLimit: 50_000,
  age: 34,
  education: 'UNIVERSITY',
  repaymentStatus: [2, 2, 0, 0, 0, 0],
  billAmounts: [48_000, 47_000, 46_000, 30_000, 25_000, 20_000],
  paymentAmounts: [0, 0, 1500, 1200, 1000, 1000],
});
const series = (n: number) => {
  const d = new Date('2020-01-01T00:00:00Z');
  let close = 100;
  return Array.from({ length: n }, () => {
    d.setUTCDate(d.getUTCDate() + (d.getUTCDay() === 5 ? 3 : 1));
    close *= Math.exp((random() - 0.5) * 0.04);
    return { date: d.toISOString().slice(0, 10), close };
  });
};

/** Sets one field, somewhere in a value, to something extreme. */
function mutate(value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || random() < 0.2)
      return pick([anyValue(), [...value, anyValue()], value.slice(1), new Array(int(0, 3000)).fill(value[0] ?? 1)]);
    const copy = [...value];
    const i = int(0, copy.length - 1);
    copy[i] = mutate(copy[i]);
    return copy;
  }
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const key = pick(keys);
    if (random() < 0.15) delete copy[key];
    else if (random() < 0.1) copy[`extra${int(0, 9)}`] = anyValue();
    else copy[key] = random() < 0.6 ? mutate(copy[key]) : anyValue();
    return copy;
  }
  return anyValue();
}

interface Case {
  body: string | Uint8Array;
  headers: Record<string, string>;
  method?: string;
  query?: string;
}

const OPERATIONS: Array<() => { query: string; variables: Record<string, unknown> }> = [
  () => ({
    query: 'query($t:[String!]!){ sentiment(texts:$t) { label score truncated scores { label probability } } }',
    variables: { t: ['Shares rally', 'Bank slumps'] },
  }),
  () => ({
    query:
      'query($a:[NewsArticleInput!]!){ newsSentiment(articles:$a) { articles { id sentiment { label } } byTicker { ticker meanNetSentiment } } }',
    variables: { a: [{ id: '1', headline: 'Apple soars', tickers: ['AAPL'], publishedAt: '2026-11-20T09:30:00Z' }] },
  }),
  () => ({
    query:
      'query($a:[CardAccountInput!]!){ creditAssessments(accounts:$a) { probabilityOfDefault score grade decision reasons { code } } }',
    variables: { a: [account(), account()] },
  }),
  () => ({
    query:
      'query($a:CardAccountInput!){ x: creditAssessment(account:$a) { score } y: creditAssessment(account:$a) { grade } }',
    variables: { a: account() },
  }),
  () => ({
    query:
      'query($i:ForecastInput!){ marketForecast(input:$i) { lastClose points { mean intervals { lower upper } } volatility { daily annualized } } }',
    variables: { i: { series: series(int(60, 400)), horizon: int(1, 60), levels: [0.8, 0.95] } },
  }),
  () => ({
    query: 'query($i:[ForecastInput!]!){ marketForecasts(inputs:$i) { lastClose method } }',
    variables: { i: [{ series: series(300) }, { series: series(80), horizon: 3 }] },
  }),
  () => {
    const points = series(int(60, 400));
    points[points.length - 1]!.close = pick([5e-324, 1e-300, 1e-12, 1e12, 9.99e11, 1e-320]);
    return {
      query: 'query($i:ForecastInput!){ marketForecast(input:$i) { lastClose points { mean } } }',
      variables: { i: { series: points } },
    };
  },
  () => ({
    query:
      'query($s:String!,$f:Date,$t:Date,$l:Int){ prices(symbol:$s, from:$f, to:$t, limit:$l) { date close } symbols { symbol rows } }',
    variables: { s: 'DEMO', f: '2020-01-01', t: '2021-01-01', l: 100 },
  }),
  () => ({
    query: 'query($id:String,$l:Int){ creditDecisions(accountId:$id, limit:$l) { accountId decision requestId } }',
    variables: { id: 'fz-1', l: 10 },
  }),
  () => ({
    query:
      'query($n:String!){ model(name:$n) { name version state versions } modelMonitoring(name:$n) { status features { psi observations status } } }',
    variables: { n: 'credit-gbt' },
  }),
  () => ({
    query: 'mutation($n:String!,$v:String!){ activateModelVersion(name:$n, version:$v) { version } }',
    variables: { n: 'sentiment-bert', v: '1.0.0' },
  }),
  () => ({
    query: 'mutation($n:String!,$v:String){ setShadowModelVersion(name:$n, version:$v) { version } }',
    variables: { n: 'credit-gbt', v: null },
  }),
];

/** Fragments that each spread the next `fanOut` times: fanOut ** fragments paths in a few kB; alias names vary so no cache helps. */
const fanOutDocument = () => {
  const fragments = int(3, 12);
  const fanOut = int(2, 12);
  const alias = `x${int(0, 1e9)}`;
  let doc = 'query{...F0} ';
  for (let i = 0; i < fragments; i++) {
    const fields = Array.from(
      { length: fanOut },
      (_, j) => `${alias}${j}:__typename${i + 1 < fragments ? ` ...F${i + 1}` : ''}`,
    );
    doc += `fragment F${i} on Query{ ${fields.join(' ')} } `;
  }
  return doc;
};

const DOCUMENTS = [
  '',
  ' ',
  '{',
  '}',
  'query',
  '{ __typename }',
  'subscription { __typename }',
  'mutation { __typename }',
  '{ nope }',
  '{ sentiment(texts: []) { label } }',
  '{ sentiment(texts: ["a"]) { label @skip(if: true) } }',
  '{ sentiment(texts: ["a"]) { ...on SentimentResult { label } } }',
  `{ ${'a: __typename '.repeat(3)} }`,
  `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
  `query { ${'models { name '.repeat(30)}${'}'.repeat(30)} }`,
  'fragment A on Query { ...B } fragment B on Query { ...A } { ...A }',
  '{ __schema { types { name fields { name } } } }',
  '{ prices(symbol: "x", limit: 2147483647) { date } }',
  '{ creditDecisions(limit: -1) { id } }',
  '{ marketForecast(input: {symbol: "DEMO", horizon: 1e400}) { lastClose } }',
  '{ creditAssessment(account: {creditLimit: 1e400, age: 30, education: UNIVERSITY, repaymentStatus: [0,0,0,0,0,0], billAmounts: [1,1,1,1,1,1], paymentAmounts: [1,1,1,1,1,1]}) { score } }',
  'query Q { __typename } query Q { __typename }',
  'query A { __typename } query B { __typename }',
  '{ sentiment(texts: ["a"]) { label } } extra',
];

function makeCase(): Case {
  const kind = random();
  const json = { 'content-type': 'application/json' };
  if (kind < 0.55) {
    const op = pick(OPERATIONS)();
    const variables = random() < 0.9 ? mutate(op.variables) : anyValue();
    return { body: JSON.stringify({ query: op.query, variables }), headers: json };
  }
  if (kind < 0.62)
    return {
      body: JSON.stringify({
        query: pick(DOCUMENTS),
        ...(random() < 0.3 ? { operationName: pick(['A', 'B', 'Q', 'nope', '']) } : {}),
      }),
      headers: json,
    };
  if (kind < 0.7) {
    return pick<() => Case>([
      () => ({ body: JSON.stringify({ query: fanOutDocument() }), headers: json }),
      () => ({
        body: JSON.stringify({ query: pick(OPERATIONS)().query, operationName: pick(['A', 'nope', '', 'Q']) }),
        headers: json,
      }),
      () => ({
        method: 'GET',
        body: '',
        headers: { 'apollo-require-preflight': 'true' },
        query: `${encodeURIComponent('{ __typename }')}&operationName=${pick(['A', '', 'nope'])}`,
      }),
      () => ({
        body: JSON.stringify({
          query: `query { ${Array.from({ length: int(1, 40) }, (_, i) => `a${i}: models { name }`).join(' ')} }`,
        }),
        headers: json,
      }),
    ])();
  }
  if (kind < 0.8) {
    const op = pick(OPERATIONS)();
    return {
      body: JSON.stringify(mutate({ query: op.query, variables: op.variables, operationName: null, extensions: {} })),
      headers: json,
    };
  }
  if (kind < 0.9) {
    return pick<() => Case>([
      () => ({ body: '{"query":', headers: json }),
      () => ({ body: 'not json', headers: json }),
      () => ({ body: '[{"query":"{ __typename }"},{"query":"{ __typename }"}]', headers: json }),
      () => ({ body: '"just a string"', headers: json }),
      () => ({ body: 'null', headers: json }),
      () => ({ body: '{"query":"{ __typename }"}', headers: { 'content-type': 'text/plain' } }),
      () => ({ body: '{"query":"{ __typename }"}', headers: { 'content-type': 'application/json; charset=latin1' } }),
      () => ({
        body: '{"query":"{ __typename }"}',
        headers: { 'content-type': 'application/json', 'content-encoding': pick(['bogus', 'gzip', 'br', 'deflate']) },
      }),
      () => ({ body: '{"query":"{ __typename }"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      () => ({ body: new Uint8Array([0xff, 0xfe, 0x00, 0x7b]), headers: json }),
      () => ({
        body: JSON.stringify({
          query: '{ __typename }',
          extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } },
        }),
        headers: json,
      }),
      () => ({
        body: '{"query":"{ __typename }"}',
        headers: {
          ...json,
          authorization: pick(['Bearer', 'Bearer x', 'Basic abc', 'x'.repeat(500)]),
          'x-request-id': pick(['ok-1', '../../etc', 'x'.repeat(300), '']),
        },
      }),
    ])();
  }
  return {
    method: 'GET',
    body: '',
    headers: { 'apollo-require-preflight': 'true', accept: pick(['application/json', 'text/html', '*/*']) },
    query: encodeURIComponent(pick(DOCUMENTS)),
  };
}

/** The gateway as its own process, info logs read only for the ready line (then drained). */
function startGateway(): Promise<{ url: string; stop: () => void; exit: Promise<number | null> }> {
  const keys = JSON.stringify([
    { name: 'full', sha256: hashApiKey(FULL_KEY), scopes: ['admin'] },
    { name: 'narrow', sha256: hashApiKey(NARROW_KEY), scopes: ['sentiment:read'] },
  ]);
  const access = OPEN
    ? { RATE_LIMIT_PER_SECOND: '0', ALLOW_OPEN_ADMIN: 'true' }
    : { API_KEYS: keys, RATE_LIMIT_PER_SECOND: '20000', RATE_LIMIT_BURST: '40000' };
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'src', 'main.js')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PRICE_DB_PATH: ':memory:',
      AUDIT_DB_PATH: ':memory:',
      MODEL_WATCH: 'false',
      ...access,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    void exit.then((code) => reject(new Error(`gateway exited with ${code} before it was ready`)));
    let url: string | undefined;
    let internalLogged = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      internalLogged += (chunk.match(/"msg":"unexpected error"/g) ?? []).length;
      const ready = url ? null : /"url":"([^"]+)","msg":"gateway ready"/.exec(chunk);
      if (ready) resolve({ url: (url = ready[1]!), stop: () => child.kill('SIGTERM'), exit });
    });
    process.on('exit', () => {
      if (internalLogged) console.error(`the gateway logged ${internalLogged} unexpected errors`);
    });
  });
}

/** A full key most of the time, else a narrow one, a wrong one or none: auth is part of what is fuzzed. */
function withCaller(headers: Record<string, string>): Record<string, string> {
  if (OPEN || headers.authorization !== undefined) return headers;
  const r = random();
  const key = r < 0.75 ? FULL_KEY : r < 0.85 ? NARROW_KEY : r < 0.92 ? 'not-a-key-0123456789' : undefined;
  return key ? { ...headers, authorization: `Bearer ${key}` } : headers;
}

async function send(url: string, c: Case): Promise<{ status: number; codes: string[] }> {
  const res = await fetch(c.method === 'GET' ? `${url}?query=${c.query}` : url, {
    method: c.method ?? 'POST',
    headers: withCaller(c.headers),
    ...(c.method === 'GET' ? {} : { body: c.body as BodyInit }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let codes: string[] = [];
  try {
    const body = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> } | Array<unknown>;
    if (!Array.isArray(body)) codes = (body.errors ?? []).map((e) => e.extensions?.code ?? 'NO_CODE');
  } catch {
    codes = [res.headers.get('content-type')?.startsWith('text/html') ? 'HTML' : 'NOT_JSON'];
  }
  return { status: res.status, codes };
}

const gateway = await startGateway();
const cases = Array.from({ length: CASES }, makeCase);
// /healthz beside the load: the worst wait is the longest any request held the event loop (plus a round trip).
let probing = true;
let healthzWorstMs = 0;
const healthz = gateway.url.replace('/graphql', '/healthz');
const probe = (async () => {
  while (probing) {
    const t = performance.now();
    await fetch(healthz).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
    healthzWorstMs = Math.max(healthzWorstMs, performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
})();
const byStatus: Record<string, number> = {};
const byCode: Record<string, number> = {};
const failures: Array<{ case: number; status: number; codes: string[]; body: string }> = [];
let next = 0;
let slowest = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < cases.length) {
      const i = next++;
      const t = performance.now();
      let result: { status: number; codes: string[] };
      try {
        result = await send(gateway.url, cases[i]!);
      } catch (error) {
        result = { status: 0, codes: [`NO_ANSWER: ${(error as Error).message}`] };
      }
      slowest = Math.max(slowest, performance.now() - t);
      byStatus[result.status] = (byStatus[result.status] ?? 0) + 1;
      for (const code of new Set(result.codes.length ? result.codes : ['ok'])) byCode[code] = (byCode[code] ?? 0) + 1;
      const undocumented5xx =
        result.status >= 500 &&
        !(result.status === 503 && result.codes.length > 0 && result.codes.every((c) => DOCUMENTED_503.has(c)));
      if (
        result.status === 0 ||
        undocumented5xx ||
        result.codes.includes('INTERNAL_SERVER_ERROR') ||
        result.codes.includes('NO_CODE')
      ) {
        failures.push({ case: i, ...result, body: String(cases[i]!.body).slice(0, 300) });
      }
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
probing = false;
await probe;
const health = await fetch(gateway.url.replace('/graphql', '/readyz')).then(
  (r) => r.status,
  () => 0,
);
gateway.stop();
const exitCode = await gateway.exit;
const summary = {
  cases: CASES,
  mode: OPEN ? 'open, no rate limit' : 'API keys and rate limits on',
  seconds: Math.round(seconds),
  byStatus,
  byCode,
  slowestMs: Math.round(slowest),
  healthzWorstMs: Math.round(healthzWorstMs),
  readyAfter: health,
  exitCode,
  failures: failures.slice(0, 20),
  failureCount: failures.length,
};
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify({ ...summary, failures: undefined }, null, 2));
for (const f of failures.slice(0, 10)) console.log('FAILURE', JSON.stringify(f));
const ok = failures.length === 0 && health === 200 && exitCode === 0;
console.log(
  `fuzz: ${CASES} cases in ${Math.round(seconds)} s, ${failures.length} INTERNAL_SERVER_ERROR / undocumented 5xx / unanswered, /healthz worst ${Math.round(healthzWorstMs)} ms, ready after: ${health}, exit code ${exitCode}: ${ok ? 'ok' : 'FAILED'}`,
);
process.exitCode = ok ? 0 : 1;
