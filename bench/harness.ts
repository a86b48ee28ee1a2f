// The comparison harness of bench:sentiment and bench:credit. On a shared machine whose speed moves by the
// minute, only contenders measured in alternating rounds (A, B, A, B ..., the same duration each) give a ratio
// that means something: each round's ratio is taken within the round, and the median and spread of those are
// reported. CPU is read from /proc/<pid>/stat of every process involved: a process's utime + stime include
// its threads that have already exited.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../src/platform/config.js';
import { loadRotating } from './gateway-process.js';

/** CPU time (user + system, ms) a whole process has used, exited threads included; null when it is gone. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from the state on: utime is the 12th, stime the 13th
    return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** The machine and its load average now. */
export function machine() {
  const cpus = os.cpus();
  return { cpuModel: cpus[0]?.model ?? 'unknown', cores: cpus.length, availableParallelism: os.availableParallelism() };
}
export const loadAverage = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

/** What one contender did in one round: items answered, over how long, and optionally latency and errors. */
export interface RoundOutcome {
  readonly items: number;
  readonly seconds: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly errors?: number;
  /** Further per-item figures of the round, e.g. one thread's CPU ms per item. */
  readonly extra?: Record<string, number>;
}

export interface Contender {
  readonly name: string;
  /** The processes whose CPU this contender costs, by role (`loadGenerator` is added for every contender). */
  readonly pids: Record<string, number>;
  readonly round: (durationS: number) => Promise<RoundOutcome>;
}

export interface RoundResult extends RoundOutcome {
  readonly itemsPerSecond: number;
  /** CPU ms per item, by process role. */
  readonly cpuMsPerItem: Record<string, number>;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface Comparison {
  readonly label: string;
  readonly rounds: number;
  readonly durationS: number;
  readonly contenders: Record<
    string,
    {
      rounds: RoundResult[];
      itemsPerSecond: Spread;
      p99Ms?: Spread;
      cpuMsPerItem: Record<string, Spread>;
      extra?: Record<string, Spread>;
    }
  >;
  /** `first/second` of each pair of contenders, from the rounds' own ratios. */
  readonly ratios: Record<string, Spread>;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Median, min and max. */
export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: round3(median), min: round3(sorted[0]!), max: round3(sorted[sorted.length - 1]!) };
}

/**
 * Runs every contender once per round, in the same order, `rounds` times, `durationS` each; prints each
 * round and returns the spread of rates, CPU per item and the within-round ratios of every pair.
 */
export async function alternate(
  label: string,
  contenders: readonly Contender[],
  rounds: number,
  durationS: number,
): Promise<Comparison> {
  const results: RoundResult[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [k, c] of contenders.entries()) {
      const pids = { ...c.pids, loadGenerator: process.pid };
      const before = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, processCpuMs(pid)]));
      const outcome = await c.round(durationS);
      const cpuMsPerItem: Record<string, number> = {};
      for (const [role, pid] of Object.entries(pids)) {
        const after = processCpuMs(pid);
        const start = before[role];
        if (after !== null && start !== null && start !== undefined && outcome.items > 0)
          cpuMsPerItem[role] = round3((after - start) / outcome.items);
      }
      // An in-process contender's own process is the load generator: count it once.
      if (c.pids.self === process.pid) delete cpuMsPerItem.loadGenerator;
      const result = { ...outcome, itemsPerSecond: Math.round(outcome.items / outcome.seconds), cpuMsPerItem };
      results[k]!.push(result);
      console.log(
        `  ${label} round ${r + 1}/${rounds}: ${c.name} ${result.itemsPerSecond}/s${result.p99Ms !== undefined ? `, p50 ${result.p50Ms} p99 ${result.p99Ms} ms` : ''}${result.errors ? `, ${result.errors} errors` : ''}, CPU ms/item ${JSON.stringify(cpuMsPerItem)}${outcome.extra ? ` ${JSON.stringify(outcome.extra)}` : ''}`,
      );
    }
  }
  const ratios: Record<string, Spread> = {};
  for (let a = 0; a < contenders.length; a++) {
    for (let b = a + 1; b < contenders.length; b++) {
      // A round in which the second answered nothing has no ratio (rounds too short for its latency).
      const within = results[a]!.map((x, r) => x.itemsPerSecond / results[b]![r]!.itemsPerSecond).filter(
        Number.isFinite,
      );
      if (within.length) ratios[`${contenders[a]!.name}/${contenders[b]!.name}`] = spread(within);
    }
  }
  return {
    label,
    rounds,
    durationS,
    ratios,
    contenders: Object.fromEntries(
      contenders.map((c, k) => {
        const rs = results[k]!;
        const roles = [...new Set(rs.flatMap((x) => Object.keys(x.cpuMsPerItem)))];
        return [
          c.name,
          {
            rounds: rs,
            itemsPerSecond: spread(rs.map((x) => x.itemsPerSecond)),
            ...(rs[0]!.p99Ms !== undefined ? { p99Ms: spread(rs.map((x) => x.p99Ms!)) } : {}),
            cpuMsPerItem: Object.fromEntries(
              roles.map((role) => [role, spread(rs.map((x) => x.cpuMsPerItem[role] ?? NaN).filter(Number.isFinite))]),
            ),
            ...(rs[0]!.extra
              ? {
                  extra: Object.fromEntries(
                    Object.keys(rs[0]!.extra).map((key) => [
                      key,
                      spread(rs.map((x) => x.extra?.[key] ?? NaN).filter(Number.isFinite)),
                    ]),
                  ),
                }
              : {}),
          },
        ];
      }),
    ),
  };
}

/** `median (min-max)` of a spread, for the printed tables. */
export const show = (s: Spread | undefined, digits = 2) =>
  s ? `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})` : '-';

/** Writes bench/results/<name>.json with the machine and its load at start and end around `body`. */
export function writeResults(
  name: string,
  startedAt: { date: string; loadAverage: number[] },
  body: Record<string, unknown>,
): void {
  const out = {
    date: startedAt.date,
    machine: machine(),
    loadAverage: { start: startedAt.loadAverage, end: loadAverage() },
    ...body,
  };
  mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', `${name}.json`), `${JSON.stringify(out, null, 1)}\n`);
}

/**
 * A Python peer (`/usr/bin/python3 script --port port ...args`) that prints a line with "peer ready" once it
 * serves; null (with the reason printed) when it exits first, e.g. without python3-fastapi installed.
 */
export function startPythonPeer(
  script: string,
  port: number,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ url: string; pid: number; stop: () => void } | null> {
  const child = spawn(
    '/usr/bin/python3',
    [path.join(REPO_ROOT, 'bench', 'peers', script), '--port', String(port), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  return new Promise((resolve) => {
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    child.on('error', () => resolve(null));
    child.on('exit', () => {
      console.log(`${script} not run: ${err.trim().split('\n').pop() ?? 'it exited'}`);
      resolve(null);
    });
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      if (c.includes('peer ready')) {
        console.log(c.trim());
        resolve({
          url: `http://127.0.0.1:${port}`,
          pid: child.pid!,
          stop: () => {
            child.removeAllListeners('exit');
            child.kill('SIGTERM');
          },
        });
      }
    });
  });
}

/** An HTTP contender: `connections` closed-loop clients rotating through `bodies`, `itemsPerRequest` each. */
export function httpContender(
  name: string,
  url: string,
  pids: Record<string, number>,
  bodies: readonly string[],
  connections: number,
  itemsPerRequest = 1,
): Contender {
  return {
    name,
    pids,
    round: async (durationS) => {
      const r = await loadRotating(url, bodies, connections, durationS);
      return {
        items: r['2xx'] * itemsPerRequest,
        seconds: r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors: r.errors + r.non2xx,
      };
    },
  };
}

/** An in-process contender: calls `step` (which handles `itemsPerStep` items) for the round's duration. */
export function loopContender(name: string, step: () => Promise<unknown>, itemsPerStep: number): Contender {
  return {
    name,
    pids: { self: process.pid },
    round: async (durationS) => {
      await step();
      let items = 0;
      const started = performance.now();
      while (performance.now() - started < durationS * 1000) {
        await step();
        items += itemsPerStep;
      }
      return { items, seconds: (performance.now() - started) / 1000 };
    },
  };
}
