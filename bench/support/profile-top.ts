import { readFileSync } from 'node:fs';

/**
 * The functions with the most self time in a V8 `.cpuprofile` (as `node --cpu-prof` writes it),
 * summed over every node of the call tree with the same function, file and line.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  location: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  const at = url.lastIndexOf('node_modules/');
  if (at >= 0) return url.slice(at + 'node_modules/'.length);
  const src = url.lastIndexOf('/dist/');
  if (src >= 0) return url.slice(url.lastIndexOf('/', src - 1) + 1);
  return url.replace(/^file:\/\//, '');
}

export function topSelfTime(path: string, count: number): { totalMs: number; top: SelfTime[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const sums = new Map<string, SelfTime>();
  let totalMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    totalMs += ms;
    const frame = byNode.get(id)?.callFrame;
    if (!frame) return;
    const name = frame.functionName || '(anonymous)';
    const location = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${location}`;
    const entry = sums.get(key) ?? { name, location, ms: 0, share: 0 };
    entry.ms += ms;
    sums.set(key, entry);
  });
  const top = [...sums.values()].sort((a, b) => b.ms - a.ms).slice(0, count);
  for (const entry of top) entry.share = totalMs === 0 ? 0 : entry.ms / totalMs;
  return { totalMs, top };
}

export function formatTopSelfTime(path: string, count = 15): string {
  const { totalMs, top } = topSelfTime(path, count);
  const lines = top.map((entry) => `${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.ms.toFixed(0).padStart(7)} ms  ${entry.name}  ${entry.location}`);
  return [`${path} (${(totalMs / 1000).toFixed(1)} s sampled)`, ...lines].join('\n');
}
