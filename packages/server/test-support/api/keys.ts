import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { api, type Api, type RequestOptions } from './api.js';
import { MAIN_JS } from '../process/server-process.js';

/** Runs `batchd keys ARGS --db DB` (a SQLite path or a PostgreSQL URL). */
export function keysCli(db: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [MAIN_JS, 'keys', ...args, '--db', db], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A new API key opening `workspace`. */
export function createKey(db: string, workspace: string): { id: string; key: string } {
  const run = keysCli(db, 'create', '--workspace', workspace, '--json');
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { id: string; key: string };
}

/** Raw requests to the server at `url` carrying `key`. */
export function withKey(url: string, key: string): Api {
  const base = api(url);
  const keyed = (options: RequestOptions = {}): RequestOptions => ({ ...options, headers: { 'x-api-key': key, ...options.headers } });
  return {
    request: (method, path, options) => base.request(method, path, keyed(options)),
    get: (path, options) => base.get(path, keyed(options)),
    post: (path, json, options) => base.post(path, json, keyed(options)),
    delete: (path, options) => base.delete(path, keyed(options)),
  };
}
