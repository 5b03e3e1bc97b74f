import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach } from 'vitest';

/**
 * Runs the real `batchd serve` process (the built `packages/server/dist/main.js`) on a loopback
 * port chosen by the OS, with its SQLite database in a temporary directory.
 *
 * Every server started from a test file is killed when that file's tests finish, and the
 * temporary directories created here are removed. When a test fails, the output of the servers
 * it started is printed, so the server's own account of the failure is at hand.
 */

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const MAIN_JS = join(REPO_ROOT, 'packages/server/dist/main.js');

const READY_LINE = /batchd listening on (http:\/\/\S+)/;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
/** How much of each output stream is kept for diagnosis. */
const OUTPUT_KEEP_CHARS = 64 * 1024;

export type ServerFlags = Record<string, string | number | boolean>;

export interface StartServerOptions {
  /** `batchd serve` flags by name without dashes, e.g. `{ 'emulator-latency-ms': 300 }`. */
  flags?: ServerFlags;
  /** Extra environment variables for the process. */
  env?: Record<string, string>;
  /** Directory holding `batchd.sqlite`; a fresh temporary directory when omitted. */
  dbDir?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerHandle {
  /** Base URL as the server printed it, e.g. `http://127.0.0.1:40123`. */
  url: string;
  dbDir: string;
  dbPath: string;
  pid: number;
  /** The options it was started with, for `restartServer`. */
  options: StartServerOptions;
  /** Resolves when the process has exited. */
  exited: Promise<ExitInfo>;
  /** Sends SIGTERM and waits for the process to exit; throws if it does not exit in time. */
  stop(): Promise<ExitInfo>;
  /** Sends SIGKILL and waits for the process to exit. */
  kill(): Promise<ExitInfo>;
  /** The tail of what the process wrote to stdout and stderr. */
  output(): { stdout: string; stderr: string };
}

class Tail {
  #text = '';
  append(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > OUTPUT_KEEP_CHARS * 2) this.#text = this.#text.slice(-OUTPUT_KEEP_CHARS);
  }
  get text(): string {
    return this.#text.length > OUTPUT_KEEP_CHARS ? `…${this.#text.slice(-OUTPUT_KEEP_CHARS)}` : this.#text;
  }
}

const running = new Set<ServerHandle>();
const startedInCurrentTest = new Set<ServerHandle>();
const createdDirs = new Set<string>();

function toArgs(flags: ServerFlags): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(flags)) {
    if (value === false) continue;
    args.push(`--${name}`);
    if (value !== true) args.push(String(value));
  }
  return args;
}

function describeOutput(handle: Pick<ServerHandle, 'output' | 'pid'>): string {
  const { stdout, stderr } = handle.output();
  return `--- batchd (pid ${handle.pid}) stderr ---\n${stderr || '(empty)'}\n--- batchd (pid ${handle.pid}) stdout ---\n${stdout || '(empty)'}`;
}

function waitForExit(child: ChildProcess): Promise<ExitInfo> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Makes a fresh temporary directory, removed when the test file finishes. */
export async function makeTempDir(prefix = 'batchd-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  createdDirs.add(dir);
  return dir;
}

/** Starts `batchd serve --port 0 --db <dbDir>/batchd.sqlite [flags]` and waits until it is listening. */
export async function startServer(options: StartServerOptions = {}): Promise<ServerHandle> {
  if (!existsSync(MAIN_JS)) {
    throw new Error(`${MAIN_JS} does not exist: run \`npm run build\` at the repository root first`);
  }
  const dbDir = options.dbDir ?? (await makeTempDir());
  const dbPath = join(dbDir, 'batchd.sqlite');
  const args = [MAIN_JS, 'serve', '--port', '0', '--db', dbPath, ...toArgs(options.flags ?? {})];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new Tail();
  const stderr = new Tail();
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => stderr.append(chunk));
  const exited = waitForExit(child);

  const output = () => ({ stdout: stdout.text, stderr: stderr.text });
  const pid = child.pid ?? -1;

  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`batchd did not print its listening line within ${READY_TIMEOUT_MS} ms\n${describeOutput({ output, pid })}`));
    }, READY_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: string) => {
      stdout.append(chunk);
      if (ready) return;
      seen += chunk;
      const match = READY_LINE.exec(seen);
      if (match) {
        ready = true;
        clearTimeout(timer);
        resolve(match[1]!.replace(/\/+$/, ''));
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not spawn batchd: ${error.message}`));
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`batchd exited (code ${code}, signal ${signal}) before listening\n${describeOutput({ output, pid })}`));
    });
  });

  const handle: ServerHandle = {
    url,
    dbDir,
    dbPath,
    pid,
    options: { ...options, dbDir },
    exited,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
      });
      const result = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      running.delete(handle);
      if (result === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`batchd did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${describeOutput(handle)}`);
      }
      return result;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const result = await exited;
      running.delete(handle);
      return result;
    },
  };
  running.add(handle);
  startedInCurrentTest.add(handle);
  return handle;
}

/**
 * Starts a new server on the database of `previous`, with the same flags unless `overrides`
 * says otherwise. `previous` must have been stopped or killed first.
 */
export async function restartServer(previous: ServerHandle, overrides: Omit<StartServerOptions, 'dbDir'> = {}): Promise<ServerHandle> {
  if (running.has(previous)) throw new Error(`batchd pid ${previous.pid} is still running; stop() or kill() it before restarting`);
  return startServer({
    flags: { ...previous.options.flags, ...overrides.flags },
    env: { ...previous.options.env, ...overrides.env },
    dbDir: previous.dbDir,
  });
}

afterEach((context) => {
  if (context.task.result?.state === 'fail') {
    for (const handle of startedInCurrentTest) console.error(describeOutput(handle));
    // Servers shared by the whole file are reported too, since the failing test talked to them.
    for (const handle of running) if (!startedInCurrentTest.has(handle)) console.error(describeOutput(handle));
  }
  startedInCurrentTest.clear();
});

afterAll(async () => {
  await Promise.all([...running].map((handle) => handle.kill()));
  await Promise.all([...createdDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  createdDirs.clear();
});

/** Whether the server's process is still running. */
export function isAlive(server: ServerHandle): boolean {
  try {
    process.kill(server.pid, 0);
    return true;
  } catch {
    return false;
  }
}
