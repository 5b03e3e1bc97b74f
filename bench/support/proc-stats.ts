import { readdirSync, readFileSync } from 'node:fs';

/**
 * A process's memory and CPU time as the Linux kernel accounts them: `VmRSS` (resident now) and
 * `VmHWM` (the peak resident size since the process started) from `/proc/<pid>/status`, user and
 * system time from `/proc/<pid>/stat`.
 */

export interface ProcMemory {
  rssBytes: number;
  peakRssBytes: number;
  /** The anonymous part of the resident size (heap, stacks, buffers). */
  anonBytes: number;
  /** The file-backed part (mapped files such as a memory-mapped database, code). */
  fileBytes: number;
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc status has no ${name}`);
  return Number(match[1]) * 1024;
}

export function readProcMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    rssBytes: field(status, 'VmRSS'),
    peakRssBytes: field(status, 'VmHWM'),
    anonBytes: field(status, 'RssAnon'),
    fileBytes: field(status, 'RssFile'),
  };
}

export interface RssPeaks {
  maxRssBytes: number;
  maxAnonBytes: number;
  maxFileBytes: number;
  samples: number;
}

/** Samples a process's resident size every `intervalMs` until stopped; keeps the largest. */
export class RssSampler {
  #max = 0;
  #maxAnon = 0;
  #maxFile = 0;
  #samples = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly pid: number, intervalMs = 10) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    try {
      const memory = readProcMemory(this.pid);
      this.#max = Math.max(this.#max, memory.rssBytes);
      this.#maxAnon = Math.max(this.#maxAnon, memory.anonBytes);
      this.#maxFile = Math.max(this.#maxFile, memory.fileBytes);
      this.#samples += 1;
    } catch {
      // The process exited; the samples so far stand.
    }
  }

  /** Stops sampling (taking one last sample) and returns the largest resident size seen. */
  stop(): RssPeaks {
    clearInterval(this.#timer);
    this.#sample();
    return { maxRssBytes: this.#max, maxAnonBytes: this.#maxAnon, maxFileBytes: this.#maxFile, samples: this.#samples };
  }
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process (or with `thread`, one of its threads) has used so far, in user space and in the kernel. */
export function readCpuTimes(pid: number, thread?: number): { user: number; system: number } {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

/** CPU seconds (user + system) of a process and of its children: those still running and those it has waited for. */
export function readTreeCpuSeconds(pid: number): number {
  const own = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const fields = own(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const child = own(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (Number(child[1]) === pid) ticks += Number(child[11]) + Number(child[12]) + Number(child[13]) + Number(child[14]);
    } catch {
      // The process exited meanwhile; its parent's waited-for time counts it.
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds (user + system) a process has used so far. */
export function readCpuSeconds(pid: number): number {
  const { user, system } = readCpuTimes(pid);
  return user + system;
}
