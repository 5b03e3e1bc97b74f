import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

/** A throwaway PostgreSQL server owned by the test run. */
export interface PostgresCluster {
  /** Superuser URL of the `postgres` database, on 127.0.0.1. */
  url: string;
  /** Stops the server (fast shutdown), deletes its directory and waits for both. */
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

const SERVER_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=300',
  'shared_buffers=128MB',
];

/**
 * The process that owns the cluster, detached from the test run's process group. It runs
 * `initdb`, then `postgres` (as the given user), with their stderr on its own. When its stdin
 * closes, because the run stopped the cluster or died however it died, it stops whichever is
 * running (a fast shutdown for the server). Whenever the server or a failed `initdb` exits, it
 * deletes the cluster's directory and exits too.
 */
const KEEPER = `
const { spawn } = require('node:child_process');
const { rmSync } = require('node:fs');
const [initdb, initArgs, postgres, serverArgs, dir, runAs] = JSON.parse(process.argv[1]);
let child;
let stopping = false;
const finish = (code) => { rmSync(dir, { recursive: true, force: true }); process.exit(code); };
const run = (bin, args, next) => {
  child = spawn(bin, args, { ...runAs, cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  child.on('error', (error) => { console.error(bin + ': ' + error.message); finish(1); });
  child.on('exit', (code, signal) => {
    if (next && !stopping && code === 0) return next();
    if (next && !stopping) console.error(bin + ' exited with ' + (code ?? signal));
    finish(next ? 1 : 0);
  });
};
process.stdin.on('close', () => { stopping = true; child.kill('SIGINT'); });
process.stdin.resume();
run(initdb, initArgs, () => run(postgres, serverArgs));
`;

/**
 * Creates a cluster with `initdb` in a fresh temp dir and starts `postgres` on a free loopback
 * port, with durability turned off (the data is thrown away). PostgreSQL refuses to run as
 * root, so under root both run as the `postgres` OS user, which then owns the directory.
 * Throws with the reason (and the server log) when the server cannot start.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = findBinDir();
  const runAs = process.getuid?.() === 0 ? postgresUser() : undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'batchd-pg-'));
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  const data = join(dir, 'data');
  const initArgs = ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'];
  const serverArgs = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`];
  for (const setting of SERVER_SETTINGS) serverArgs.push('-c', setting);
  const keeper = spawn(
    process.execPath,
    ['-e', KEEPER, JSON.stringify([join(bin, 'initdb'), initArgs, join(bin, 'postgres'), serverArgs, dir, runAs ?? {}])],
    { detached: true, stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let log = '';
  keeper.stderr?.setEncoding('utf8').on('data', (text: string) => {
    log = (log + text).slice(-8000);
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitUntilReady(url, keeper, () => log);
  } catch (error) {
    await stopKeeper(keeper);
    throw error;
  }
  return { url, stop: () => stopKeeper(keeper) };
}

/** The directory holding `initdb` and `postgres`: from PATH, else Debian's versioned dirs. */
function findBinDir(): string {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => join('/usr/lib/postgresql', version, 'bin'))
    : [];
  const found = [...onPath, ...debian].find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  if (!found) throw new Error('initdb and postgres were not found on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL (apt-get install postgresql)');
  return found;
}

function postgresUser(): RunAs {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root and there is no `postgres` OS user to run PostgreSQL as (PostgreSQL refuses to run as root)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls with a connection attempt until the server accepts one, or fails if its keeper exits. */
async function waitUntilReady(url: string, keeper: ChildProcess, log: () => string): Promise<void> {
  const exited = new Promise<never>((_, reject) => {
    keeper.once('exit', (code, signal) => reject(new Error(`PostgreSQL did not start (exit ${code ?? signal}):\n${log()}`)));
    keeper.once('error', (error) => reject(new Error(`PostgreSQL could not be started: ${error.message}`)));
  });
  exited.catch(() => undefined);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await Promise.race([client.connect(), exited]);
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (keeper.exitCode !== null || keeper.signalCode !== null) await exited;
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${String(error)}\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Closes the keeper's stdin, so it stops the server and deletes the directory, and waits for it. */
function stopKeeper(keeper: ChildProcess): Promise<void> {
  if (keeper.exitCode !== null || keeper.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    keeper.once('exit', () => resolve());
    keeper.stdin?.end();
  });
}
