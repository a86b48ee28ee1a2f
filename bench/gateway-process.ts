import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { parse } from 'csv-parse/sync';
import * as hdr from 'hdr-histogram-js';
import { REPO_ROOT } from '../src/platform/config.js';

/**
 * `node dist/src/main.js` as its own process on a free loopback port (info logs, read for the ready line);
 * resolves once it is ready. `stop` sends SIGTERM and resolves when it has exited.
 */
export function startGatewayProcess(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...nodeArgs, path.join(REPO_ROOT, 'dist', 'src', 'main.js')], {
    // LOG_LEVEL is pinned to info: the ready line is how the port is learnt, and a quieter level would leave this waiting.
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LANDING_PAGE: 'false',
      PRICE_DB_PATH: ':memory:',
      AUDIT_DB_PATH: ':memory:',
      MODEL_WATCH: 'false',
      ...env,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('gateway not ready within 60 s'));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}`));
    });
    let head = ''; // a log line may arrive split across chunks
    const onData = (chunk: string) => {
      head += chunk;
      const ready = /"url":"([^"]+)","msg":"gateway ready"/.exec(head);
      if (!ready) return;
      clearTimeout(timer);
      head = '';
      child.stdout.off('data', onData);
      child.stdout.resume(); // keep draining the request logs, as a log shipper would
      resolve({
        url: ready[1]!,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
  });
}

/**
 * CPU time (user + system, ms) a process has used so far, split into its main thread (the event loop) and
 * all its other threads (the model worker, onnxruntime's pool, V8's helpers), from Linux's /proc; null elsewhere.
 */
export function threadCpuMs(pid: number): { eventLoop: number; otherThreads: number } | null {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return null;
  const tickMs = 10; // USER_HZ is 100 on Linux
  let eventLoop = 0;
  let otherThreads = 0;
  for (const tid of readdirSync(dir)) {
    let stat: string;
    try {
      stat = readFileSync(`${dir}/${tid}/stat`, 'utf8');
    } catch {
      continue;
    } // a thread that has just ended
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the state on: utime is the 12th, stime the 13th
    const ms = (Number(fields[11]) + Number(fields[12])) * tickMs;
    if (Number(tid) === pid) eventLoop += ms;
    else otherThreads += ms;
  }
  return { eventLoop, otherThreads };
}

/** Rate limiting stays on, with a budget above what one machine can serve (the default would cap one caller well below it). */
export const GENEROUS_RATE_LIMIT = { RATE_LIMIT_PER_SECOND: '10000000', RATE_LIMIT_BURST: '10000000' };

/** `connections` autocannon clients sending `body` for `durationS`; answered items per second (`itemsPerRequest` each) and latency. */
export async function loadWith(
  url: string,
  body: string,
  connections: number,
  durationS: number,
  itemsPerRequest: number,
) {
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return {
    connections,
    // Answered requests only: a refused one is fast and would flatter the rate.
    itemsPerSecond: Math.round((result['2xx'] / result.duration) * itemsPerRequest),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** The project-written headlines the sentiment benchmarks send. */
export function headlines(): string[] {
  const rows = parse(readFileSync(path.join(REPO_ROOT, 'models', 'sentiment-bert', 'train', 'headlines.csv')), {
    columns: true,
  }) as Array<{ headline: string }>;
  return rows.map((r) => r.headline);
}

/** One one-text `sentiment` request body per headline, built once: the load generator shares the cores. */
export function headlineBodies(texts: readonly string[] = headlines()): string[] {
  return texts.map((t) =>
    JSON.stringify({ query: 'query($t:[String!]!){ sentiment(texts:$t) { label score } }', variables: { t: [t] } }),
  );
}

/** `connections` autocannon clients for `durationS`, each sending the next of `bodies` as soon as its last request is answered. */
export function loadRotating(url: string, bodies: readonly string[], connections: number, durationS: number) {
  let i = 0;
  return autocannon({
    url,
    connections,
    duration: durationS,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
}

/**
 * GET `route` every `everyMs` until `until` settles; the latency of each answer. What a health check or a
 * small request arriving beside the load waits, which grows when the event loop is held by long work.
 */
export async function probeLatency(
  baseUrl: string,
  route: string,
  until: Promise<unknown>,
  everyMs = 25,
): Promise<{ p50Ms: number; p99Ms: number; maxMs: number; probes: number }> {
  let done = false;
  // then(stop, stop), not finally: a load that fails is reported by its own caller, not as an unhandled rejection here.
  const stop = () => {
    done = true;
  };
  until.then(stop, stop);
  const latencyUs = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
  while (!done) {
    const started = performance.now();
    await (await fetch(new URL(route, baseUrl))).arrayBuffer();
    latencyUs.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  const at = (percentile: number) => Math.round(latencyUs.getValueAtPercentile(percentile) / 100) / 10;
  const result = {
    p50Ms: at(50),
    p99Ms: at(99),
    maxMs: Math.round(latencyUs.maxValue / 100) / 10,
    probes: latencyUs.totalCount,
  };
  latencyUs.destroy();
  return result;
}
