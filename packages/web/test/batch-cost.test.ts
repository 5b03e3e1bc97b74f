import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchdClient } from '@batchd/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatLine, openAIClient, uploadLines, waitForBatch } from '../../server/test-support/api/openai.js';
import { cacheUsageCompletion, cacheUsageMessage, pricedConfig } from '../../server/test-support/fakes/cache-usage-answers.js';
import { FakeProvider } from '../../server/test-support/fakes/fake-provider.js';
import { makeTempDir, startServer } from '../../server/test-support/process/server-process.js';
import { API_KEY, launchBrowser, openDashboard, screenshot, textOf } from './support/browser.js';
import { request } from './support/requests.js';

/** A batch's cache hit rate and estimated cost on its dashboard page, for both kinds of batch. */

let browser: Browser;
let url: string;
const providers: FakeProvider[] = [];

beforeAll(async () => {
  const [anthropic, chat] = await Promise.all([
    FakeProvider.start({ shape: 'anthropic', respond: cacheUsageMessage }),
    FakeProvider.start({ shape: 'openai', respond: cacheUsageCompletion }),
  ]);
  providers.push(anthropic, chat);
  const config = join(await makeTempDir('batchd-web-cost-'), 'batchd.json');
  await writeFile(config, JSON.stringify(pricedConfig(anthropic.url, chat.url)));
  const [server, launched] = await Promise.all([startServer({ flags: { config } }), launchBrowser()]);
  browser = launched;
  url = server.url;
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(providers.map((provider) => provider.close()));
});

const SETTLE = { timeout: 20_000, interval: 100 };

async function usageCard(path: string, name: string) {
  const { context, page } = await openDashboard(browser, url, { apiKey: API_KEY, hash: path });
  try {
    await expect.poll(() => textOf(page, 'dd[data-usage="cost"]'), SETTLE).toMatch(/^\$/);
    const figures = await page.$$eval('dd[data-usage]', (cells) => Object.fromEntries(cells.map((cell) => [cell.getAttribute('data-usage'), cell.textContent])));
    const note = await textOf(page, 'p[data-usage="unpriced"]');
    await screenshot(page, name);
    return { figures, note };
  } finally {
    await context.close();
  }
}

describe('cost in the dashboard', () => {
  it('shows a message batch’s cache hit rate, cost at the prices paid and direct, and that it is partial', async () => {
    const api = new BatchdClient({ apiKey: API_KEY, baseURL: url });
    const write = request('writes', 'write');
    const read = request('reads', 'read');
    const unpriced = { custom_id: 'unpriced', params: { ...request('unpriced').params, model: 'claude-opus-9' } };
    const batch = await api.messages.batches.create({ requests: [write, read, unpriced] });
    await api.messages.batches.wait(batch.id, { pollInterval: 50 });
    // writes 4,350 µ$ + reads 900 µ$; 1,000 of 2,300 input tokens read from cache.
    const { figures, note } = await usageCard(`#/batches/${batch.id}`, 'dashboard-cost');
    expect(figures).toMatchObject({ cache_read_input_tokens: '1,000', cache_hit_rate: '43.5%', cost: '$0.00525', direct_cost: '$0.00525', saving: '$0' });
    expect(note).toBe("1 request without a price in the server's config: the estimate is partial.");
  });

  it('shows an OpenAI batch’s cache hit rate and cost', async () => {
    const client = openAIClient(url, API_KEY);
    const file = await uploadLines(client, [chatLine('one', 'first', { model: 'gpt-4.1' })]);
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await waitForBatch(client, batch.id);
    const { figures, note } = await usageCard(`#/openai/${batch.id}`, 'openai-batch-cost');
    expect(figures).toMatchObject({ cache_hit_rate: '80%', cost: '$0.0012', direct_cost: '$0.0012' });
    expect(note).toBe('');
  });
});
