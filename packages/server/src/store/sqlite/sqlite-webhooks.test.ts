import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runWebhookStoreContract } from '../../../test-support/contracts/webhook-store-contract.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'batchd-sqlite-webhooks-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runWebhookStoreContract('sqlite', async () => new SqliteStore(join(dir, `store-${files++}.sqlite`)));
