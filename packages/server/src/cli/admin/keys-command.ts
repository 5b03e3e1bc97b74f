import type { Command } from 'commander';
import { newApiKey, newKeyId } from '../../ids.js';
import { hashApiKey, type ApiKeyStore } from '../../store/api-key-store.js';
import { CliError } from '../cli-error.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatTable } from '../format-table.js';

const WORKSPACE_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** Opens the store `--db` names beside any server running on it, for `work` on its API keys. */
async function withKeys<T>(db: string | undefined, work: (keys: ApiKeyStore) => Promise<T>): Promise<T> {
  const [{ openStore }, { default: pino }] = await Promise.all([import('../../store/open-store.js'), import('pino')]);
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const store = await openStore(db ?? process.env.BATCHD_DB ?? './data/batchd.sqlite', logger, { takeOver: false });
  try {
    return await work(store.apiKeys);
  } finally {
    await store.close();
  }
}

/**
 * `batchd keys create|list|revoke`: API keys, each opening one workspace. They act on the
 * database directly (`--db`, as `serve` takes it); a key is printed once and only its hash kept.
 */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage API keys (--auth keys)');
  const db = ['--db <value>', 'SQLite database file or postgres:// URL (env BATCHD_DB)'] as const;

  keys
    .command('create')
    .description('create a key for a workspace and print it once')
    .requiredOption('--workspace <name>', 'the workspace the key opens')
    .option(...db)
    .option('--json', 'print JSON')
    .action(async (flags: { workspace: string; db?: string; json?: boolean }) => {
      if (!WORKSPACE_PATTERN.test(flags.workspace)) throw new CliError('--workspace must match ^[a-zA-Z0-9_-]{1,64}$', EXIT_CODES.usage);
      const key = newApiKey();
      const record = { id: newKeyId(), workspaceId: flags.workspace, hash: hashApiKey(key), prefix: key.slice(0, 7), createdAt: Date.now() };
      await withKeys(flags.db, (keys) => keys.create(record));
      if (flags.json) process.stdout.write(`${JSON.stringify({ id: record.id, workspace: record.workspaceId, key })}\n`);
      else process.stdout.write(`${key}\n`);
      if (!flags.json) process.stderr.write(`created ${record.id} for workspace ${record.workspaceId}; the key is shown only this once\n`);
    });

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option(...db)
    .option('--json', 'print JSON')
    .action(async (flags: { db?: string; json?: boolean }) => {
      const records = await withKeys(flags.db, (keys) => keys.list());
      const rows = records.map((k) => ({
        id: k.id,
        workspace: k.workspaceId,
        prefix: `${k.prefix}…`,
        created_at: new Date(k.createdAt).toISOString(),
        revoked_at: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
      }));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ data: rows })}\n`);
        return;
      }
      const columns = ['ID', 'WORKSPACE', 'KEY', 'CREATED', 'REVOKED'].map((title) => ({ title }));
      process.stdout.write(formatTable(columns, rows.map((r) => [r.id, r.workspace, r.prefix, r.created_at, r.revoked_at ?? '-'])));
    });

  keys
    .command('revoke <id>')
    .description('revoke a key; requests with it get 401 within seconds')
    .option(...db)
    .action(async (id: string, flags: { db?: string }) => {
      const revoked = await withKeys(flags.db, (keys) => keys.revoke(id, Date.now()));
      if (!revoked) throw new CliError(`no key with id ${id}`, EXIT_CODES.failed);
      process.stdout.write(`revoked ${id}\n`);
    });
}
