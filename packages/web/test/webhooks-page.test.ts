import { BatchdClient, verifyWebhook } from '@batchd/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../../server/test-support/process/server-process.js';
import { WebhookReceiver } from '../../server/test-support/fakes/webhook-receiver.js';
import { API_KEY, launchBrowser, openDashboard, screenshot, textOf } from './support/browser.js';
import { request } from './support/requests.js';

let server: ServerHandle;
let browser: Browser;
/** Fails the first attempt, so the log shows a retry. */
let hooks: WebhookReceiver;

beforeAll(async () => {
  [server, browser, hooks] = await Promise.all([
    startServer({ flags: { 'maintenance-interval': '100ms', 'webhook-retry-base': '1ms' } }),
    launchBrowser(),
    WebhookReceiver.start((index) => (index === 0 ? 500 : 200)),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await hooks?.close();
});

/** Conditions in the page settle within a few polls; the cap only bounds a failing run. */
const SETTLE = { timeout: 20_000 };

describe('the webhooks page in chromium', () => {
  it('adds an endpoint, shows its delivery log as events arrive, and removes it after confirmation', async () => {
    const { page, context } = await openDashboard(browser, server.url, { apiKey: API_KEY });
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForSelector('h1:text-is("Webhooks")');
    await page.waitForSelector('.webhook-endpoints .empty');

    await page.fill('#webhook-url', 'ftp://example.com/');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.waitForSelector('.banner-error', SETTLE);
    expect(await textOf(page, '.banner-error')).toContain('must be http or https');

    await page.fill('#webhook-url', hooks.url);
    await page.fill('#webhook-description', 'page test');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await (await page.waitForSelector('.webhook-secret', SETTLE)).textContent();
    expect(secret).toMatch(/^whsec_/);
    const card = page.locator('.webhook-endpoint');
    await card.locator('.empty').waitFor(SETTLE);
    expect(await card.locator('h2').textContent()).toBe(hooks.url);
    const endpointId = await card.getAttribute('data-endpoint-id');

    const client = new BatchdClient({ apiKey: API_KEY, baseURL: server.url });
    const batch = await client.messages.batches.create({ requests: [request('hooked-1'), request('hooked-2')] });
    const row = card.locator(`tr:has(a:text-is("${batch.id}"))`);
    await row.locator('.badge[data-status="delivered"]').waitFor(SETTLE);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1)).toEqual(['batch.ended', batch.id, 'delivered', '2', '200', '—', '—']);
    await screenshot(page, 'dashboard-webhooks');
    // The secret the page showed is the one the events were signed with.
    const event = await verifyWebhook(hooks.received[1]!.body, hooks.received[1]!.headers, secret!);
    expect(event.data.id).toBe(batch.id);

    await card.getByRole('button', { name: 'Remove' }).click();
    await page.locator('dialog').getByRole('button', { name: 'Remove endpoint' }).click();
    await page.waitForSelector('.webhook-endpoints .empty', SETTLE);
    expect(await client.webhooks.list()).toEqual([]);
    await expect(client.webhooks.retrieve(endpointId!)).rejects.toThrow(/No webhook endpoint/);
    await context.close();
  });

  it('marks an endpoint disabled once its receiver answers 410 Gone', async () => {
    const gone = await WebhookReceiver.start(() => 410);
    const client = new BatchdClient({ apiKey: API_KEY, baseURL: server.url });
    const endpoint = await client.webhooks.create({ url: gone.url });
    const { page, context } = await openDashboard(browser, server.url, { apiKey: API_KEY });
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const card = page.locator(`.webhook-endpoint[data-endpoint-id="${endpoint.id}"]`);
    await card.locator('.empty').waitFor(SETTLE);
    await client.messages.batches.create({ requests: [request('gone-1')] });
    await card.locator('.banner-error').waitFor(SETTLE);
    expect(await card.locator('.banner-error').textContent()).toMatch(/^Disabled .+: its receiver answered 410 Gone\. Add the URL again to receive events\.$/);
    expect(gone.received).toHaveLength(1);
    await context.close();
    await gone.close();
  });
});
