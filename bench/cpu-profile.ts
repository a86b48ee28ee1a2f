// Where a process's CPU went, from a V8 .cpuprofile (node --cpu-prof): self time grouped by this
// project's source folders, by npm package, and by V8's own entries (garbage collection, idle, native).
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber?: number } }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

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
function selfTimeShares(file: string, keyOf: (frame: ProfileNode['callFrame']) => string): Array<{ key: string; share: number }> {
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
    const where = url ? ` (${url.replace(/^.*node_modules\//, '').replace(/^.*dist\//, '')}:${(lineNumber ?? 0) + 1})` : '';
    return `${functionName || '(anonymous)'}${where}`;
  }).slice(0, count).map(({ key, share }) => ({ fn: key, share }));
}
