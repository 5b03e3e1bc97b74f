import { createReadStream } from 'node:fs';
import { secondsSince } from './stats.js';

/** CPU milliseconds this process has used so far (user + system). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Lines (newlines) in one chunk of JSONL. */
export function countNewlines(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
  return lines;
}

/** Reads a file as the results baseline does (a read stream, lines counted): seconds, bytes, lines and this process's CPU. */
export async function readFileTimed(path: string): Promise<{ seconds: number; bytes: number; lines: number; cpuMs: number }> {
  const cpuAtStart = ownCpuMs();
  const start = performance.now();
  let bytes = 0;
  let lines = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    lines += countNewlines(chunk);
  }
  return { seconds: secondsSince(start), bytes, lines, cpuMs: ownCpuMs() - cpuAtStart };
}
