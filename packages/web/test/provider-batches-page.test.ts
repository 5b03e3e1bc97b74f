import { BatchdClient } from '@batchd/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAnthropicBatches } from '../../server/test-support/fakes/fake-anthropic-batches.js';
import { batchAnswer, PROVIDER_KEY, startProviderBatchServer } from '../../server/test-support/process/provider-batch-server.js';
import type { ServerHandle } from '../../server/test-support/process/server-process.js';
import { API_KEY, launchBrowser, openDashboard, textOf } from './support/browser.js';
import { request } from './support/requests.js';

let fake: FakeAnthropicBatches;
let server: ServerHandle;
let browser: Browser;

beforeAll(async () => {
  fake = await FakeAnthropicBatches.start({ apiKey: PROVIDER_KEY, answer: batchAnswer });
  [server, browser] = await Promise.all([startProviderBatchServer(fake), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await fake?.close();
});

describe('a batch page in chromium', () => {
  it('lists the provider batches its requests went to, with their state and counts', async () => {
    const api = new BatchdClient({ apiKey: API_KEY, baseURL: server.url });
    const batch = await api.messages.batches.create({ requests: ['pb-1', 'pb-2', 'pb-3'].map((id) => request(id)) });
    await api.messages.batches.wait(batch.id, { pollInterval: 100 });
    const dashboard = await openDashboard(browser, server.url, { apiKey: API_KEY, hash: `#/batches/${batch.id}` });
    try {
      const row = `tr[data-provider-batch="${fake.submissions[0]!.id}"]`;
      await dashboard.page.waitForSelector(row, { timeout: 20_000 });
      const cells = await dashboard.page.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent));
      expect(cells).toEqual([fake.submissions[0]!.id, 'claude-batch', 'closed', '0', '3', '0', '0', '0']);
      expect(await textOf(dashboard.page, '[data-provider-batches] h2')).toBe('Provider batches');
    } finally {
      await dashboard.context.close();
    }
  }, 60_000);
});
