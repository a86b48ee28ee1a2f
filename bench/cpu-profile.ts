// Where a process's CPU went, from a V8 .cpuprofile (node --cpu-prof): self time grouped by this
// project's source folders, by npm package, and by V8's own entries (garbage collection, idle, native).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGatewayProcess } from './gateway-process.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber?: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The group a function's self time counts to: `src/<folder>`, an npm package, or a V8 entry such as (garbage collector). */
function groupOf(frame: ProfileNode['callFrame']): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (pkg) return pkg[1]!;
  const own = /dist\/src\/([^/]+)(?:\/([^/]+))?/.exec(frame.url);
  if (own) return `src/${own[1]}${own[2] && !own[2].endsWith('.js') ? `/${own[2]}` : ''}`;
  if (frame.url.startsWith('node:')) return 'node internals';
  return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
}

/** Self CPU time summed by `keyOf(frame)`, as shares of the whole, largest first. */
function selfTimeShares(
  file: string,
  keyOf: (frame: ProfileNode['callFrame']) => string,
): Array<{ key: string; share: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const key = keyOf(nodes.get(id)!.callFrame);
    totals.set(key, (totals.get(key) ?? 0) + dt);
    all += dt;
  });
  return [...totals].map(([key, t]) => ({ key, share: t / all })).sort((a, b) => b.share - a.share);
}

/** Shares of self CPU time per group, largest first, from a .cpuprofile file. */
export function cpuBreakdown(file: string): Array<{ group: string; share: number }> {
  return selfTimeShares(file, groupOf).map(({ key, share }) => ({ group: key, share }));
}

/** The functions with the most self time, as `name (file:line)`, largest first. */
export function topFunctions(file: string, count = 15): Array<{ fn: string; share: number }> {
  return selfTimeShares(file, ({ functionName, url, lineNumber }) => {
    const where = url
      ? ` (${url.replace(/^.*node_modules\//, '').replace(/^.*dist\//, '')}:${(lineNumber ?? 0) + 1})`
      : '';
    return `${functionName || '(anonymous)'}${where}`;
  })
    .slice(0, count)
    .map(({ key, share }) => ({ fn: key, share }));
}

/**
 * Runs a gateway process under `node --cpu-prof` (`env` as for startGatewayProcess), applies `load` to it, stops
 * it, and prints where the event loop's CPU went (by group, then the top functions), then the busiest groups
 * of each other thread that did work (model workers, the GARCH pool).
 */
export async function profileGateway(
  env: Record<string, string>,
  load: (url: string) => Promise<string>,
): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'));
  const gw = await startGatewayProcess(env, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const label = await load(gw.url);
  await gw.stop(); // the profiles are written as the process exits
  // One profile per thread; thread 0 is the event loop.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const main = files.find((f) => /\.0\.\d+\.cpuprofile$/.test(f))!;
  console.log(`${label}\n\n| where | share of the event loop's CPU |\n|---|---|`);
  for (const { group, share } of cpuBreakdown(path.join(dir, main)).slice(0, 15))
    console.log(`| ${group} | ${(share * 100).toFixed(1)} % |`);
  console.log('\n| function | self time |\n|---|---|');
  for (const { fn, share } of topFunctions(path.join(dir, main), 25))
    console.log(`| ${fn} | ${(share * 100).toFixed(1)} % |`);
  for (const file of files.filter((f) => f !== main)) {
    // A piscina worker waits for tasks in Atomics.wait, which the profiler samples as running JavaScript.
    const groups = cpuBreakdown(path.join(dir, file)).filter(
      (g) => g.group !== '(idle)' && g.group !== 'piscina' && g.share >= 0.01,
    );
    const busy = groups.reduce((sum, g) => sum + g.share, 0);
    if (busy < 0.05) continue; // a thread that mostly waited
    console.log(
      `\nthread ${file.split('.')[4]}: busy ${(busy * 100).toFixed(0)} % of its samples: ${groups
        .slice(0, 6)
        .map((g) => `${g.group} ${(g.share * 100).toFixed(1)} %`)
        .join(', ')}`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}
