import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BATCHD_MAIN, REPO_ROOT } from './repo-paths.js';
import { readCpuSeconds, readCpuTimes, readProcMemory, type ProcMemory } from './proc-stats.js';

/**
 * A `batchd serve` process for one measurement: its own SQLite file, a loopback port chosen by the
 * OS, logs at `warn` unless the flags say otherwise. With `cpuProfileDir`, node writes a
 * `.cpuprofile` there when the process exits after SIGTERM.
 */

export interface BatchdOptions {
  /** Directory for the database (created when missing). */
  dir: string;
  /** `serve` flags by name without dashes (`true` for a flag without a value). */
  flags?: Record<string, string | number | true>;
  /** `worker` runs the engine only and has no URL. Default `serve`. */
  command?: 'serve' | 'worker';
  env?: Record<string, string>;
  cpuProfileDir?: string;
}

const READY = /batchd listening on (http:\/\/\S+)|batchd worker running/;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
const TAIL_CHARS = 16_384;

const live = new Set<BatchdProcess>();

/** The last characters a stream wrote. */
class Tail {
  text = '';
  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-TAIL_CHARS);
  }
}

export class BatchdProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly exited: Promise<void>,
    private readonly errors: Tail,
  ) {}

  static async start(options: BatchdOptions): Promise<BatchdProcess> {
    if (!existsSync(BATCHD_MAIN)) throw new Error(`${BATCHD_MAIN} is missing: run \`npm run build\` first`);
    mkdirSync(options.dir, { recursive: true });
    const flags: Record<string, string | number | true> = { 'log-level': 'warn', ...options.flags };
    const command = options.command ?? 'serve';
    const args = [command, ...(command === 'serve' ? ['--port', '0'] : []), '--db', join(options.dir, 'batchd.sqlite')];
    for (const [name, value] of Object.entries(flags)) args.push(`--${name}`, ...(value === true ? [] : [String(value)]));
    const nodeArgs: string[] = [];
    if (options.cpuProfileDir) {
      mkdirSync(options.cpuProfileDir, { recursive: true });
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir);
    }
    const child = spawn(process.execPath, [...nodeArgs, BATCHD_MAIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const errors = new Tail();
    child.stderr!.on('data', (chunk: string) => errors.append(chunk));
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`batchd did not start within ${READY_TIMEOUT_MS} ms\n${errors.text}`));
      }, READY_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: string) => {
        seen += chunk;
        const match = READY.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolve((match[1] ?? '').replace(/\/+$/, ''));
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`batchd exited before listening\n${errors.text}`));
      });
    });
    const handle = new BatchdProcess(child, url, exited, errors);
    live.add(handle);
    return handle;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  memory(): ProcMemory {
    return readProcMemory(this.pid);
  }

  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number {
    return readCpuSeconds(this.pid);
  }

  /** CPU seconds the process's main thread (its event loop) has used so far: the whole process less its worker threads. */
  mainThreadCpuSeconds(): number {
    const { user, system } = readCpuTimes(this.pid, this.pid);
    return user + system;
  }

  /** CPU seconds the process has used so far, in user space and in the kernel. */
  cpuTimes(): { user: number; system: number } {
    return readCpuTimes(this.pid);
  }

  /** The tail of what the process wrote to stderr. */
  get stderr(): string {
    return this.errors.text;
  }

  /** SIGTERM, then SIGKILL if it has not exited within the timeout. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (late) await this.kill();
    live.delete(this);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    live.delete(this);
  }
}

/** Kills every batchd process this run started and has not stopped (after a scenario fails). */
export async function killAllStarted(): Promise<void> {
  await Promise.all([...live].map((handle) => handle.kill()));
}
