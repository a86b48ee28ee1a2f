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

/** Shares of self CPU time per group, largest first, from a .cpuprofile file. */
export function cpuBreakdown(file: string): Array<{ group: string; share: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const group = groupOf(nodes.get(id)!.callFrame);
    totals.set(group, (totals.get(group) ?? 0) + dt);
    all += dt;
  });
  return [...totals].map(([group, t]) => ({ group, share: t / all })).sort((a, b) => b.share - a.share);
}

/** The functions with the most self time, as `name (file:line)`, largest first. */
export function topFunctions(file: string, count = 15): Array<{ fn: string; share: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const where = url ? ` (${url.replace(/^.*node_modules\//, '').replace(/^.*dist\//, '')}:${(lineNumber ?? 0) + 1})` : '';
    const key = `${functionName || '(anonymous)'}${where}`;
    totals.set(key, (totals.get(key) ?? 0) + dt);
    all += dt;
  });
  return [...totals].map(([fn, t]) => ({ fn, share: t / all })).sort((a, b) => b.share - a.share).slice(0, count);
}
