import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchdClient } from '@batchd/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeProvider } from '../../server/test-support/fakes/fake-provider.js';
import { makeTempDir, startServer, type ServerHandle } from '../../server/test-support/process/server-process.js';
import { API_KEY, launchBrowser, openDashboard, screenshot, textOf } from './support/browser.js';

let server: ServerHandle;
let browser: Browser;
let live: FakeProvider;
/** A replica whose port no longer listens: every call to it is refused, then moved to the live one. */
let dead: FakeProvider;

beforeAll(async () => {
  [live, dead, browser] = await Promise.all([FakeProvider.start({ shape: 'openai' }), FakeProvider.start({ shape: 'openai' }), launchBrowser()]);
  await dead.close();
  const config = join(await makeTempDir('batchd-dashboard-replicas-'), 'batchd.json');
  await writeFile(config, JSON.stringify({ backends: [{ name: 'gpu', type: 'openai', urls: [live.url, dead.url] }] }));
  server = await startServer({ flags: { config } });
});

afterAll(async () => {
  await browser?.close();
  await live?.close();
});

describe('the backends page in chromium', () => {
  it('lists a backend’s replicas with their calls and failures', async () => {
    const api = new BatchdClient({ apiKey: API_KEY, baseURL: server.url });
    const requests = Array.from({ length: 4 }, (_, i) => ({ custom_id: `r${i}`, params: { model: 'm', max_tokens: 8, messages: [{ role: 'user' as const, content: `Hi ${i}` }] } }));
    const batch = await api.messages.batches.create({ requests });
    await expect.poll(async () => (await api.messages.batches.retrieve(batch.id)).processing_status, { timeout: 20_000 }).toBe('ended');

    const { page, context } = await openDashboard(browser, server.url, { apiKey: API_KEY, hash: '#/backends' });
    const row = 'tr[data-backend="gpu"]';
    await page.waitForSelector(`${row} li[data-replica="${dead.url}"]`);
    expect(await textOf(page, `${row} li[data-replica="${live.url}"]`)).toBe(`${live.url} · 0 in flight · ${live.received} calls · 0 failed`);
    expect(await textOf(page, `${row} li[data-replica="${dead.url}"]`)).toMatch(new RegExp(`^${dead.url} · 0 in flight · ([1-9]\\d*) calls · \\1 failed`));
    await screenshot(page, 'dashboard-backend-replicas');
    await context.close();
  });
});
