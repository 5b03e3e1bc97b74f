import { BatchdClient, MAX_BATCH_REQUESTS } from '@batchd/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../../server/test-support/process/server-process.js';
import { API_KEY, launchBrowser, openDashboard, textOf } from './support/browser.js';
import { request } from './support/requests.js';

/** The virtual list keeps at most this many rows in the DOM (see virtual-list.ts). */
const MAX_DOM_ROWS = 120;
const SETTLE = { timeout: 60_000, interval: 50 };

let server: ServerHandle;
let browser: Browser;
let batchId: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  const api = new BatchdClient({ apiKey: API_KEY, baseURL: server.url });
  const requests = Array.from({ length: MAX_BATCH_REQUESTS }, (_, i) => request(`r-${i}`, `Item ${i}`));
  const batch = await api.messages.batches.create({ requests });
  batchId = batch.id;
  await api.messages.batches.wait(batch.id, { pollInterval: 250, timeout: 110_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('the results browser with a full-size batch', () => {
  it('streams 100,000 results in while staying responsive, with only a screenful of rows in the DOM', async () => {
    const { context, page } = await openDashboard(browser, server.url, { apiKey: API_KEY, hash: `#/batches/${batchId}/results` });
    const rowsInDom = () => page.$$eval('.result-row', (rows) => rows.length);

    // The page redraws while results arrive: the count is seen part way.
    await expect
      .poll(async () => {
        const match = /^Loading… ([\d,]+) results so far/.exec(await textOf(page, '.results-status'));
        return match ? Number(match[1]!.replaceAll(',', '')) : 0;
      }, SETTLE)
      .toBeGreaterThan(0);
    expect(await rowsInDom()).toBeLessThanOrEqual(MAX_DOM_ROWS);
    await expect.poll(() => textOf(page, '.results-status'), SETTLE).toBe('100,000 results, 100,000 shown');
    expect(await rowsInDom()).toBeLessThanOrEqual(MAX_DOM_ROWS);

    await page.$eval('.vlist', (list) => list.scrollTo({ top: list.scrollHeight }));
    await page.waitForSelector('.result-row[data-custom-id="r-99999"]');
    expect(await rowsInDom()).toBeLessThanOrEqual(MAX_DOM_ROWS);
    await page.click('.result-row[data-custom-id="r-99999"]');
    expect(await textOf(page, '.result-view .text-block')).toBe('[emulator] Item 99999');

    await page.fill('#result-search', 'r-9999');
    await expect
      .poll(() => page.$$eval('.result-row', (rows) => rows.map((row) => row.getAttribute('data-custom-id'))), SETTLE)
      .toEqual(['r-9999', 'r-99990', 'r-99991', 'r-99992', 'r-99993', 'r-99994', 'r-99995', 'r-99996', 'r-99997', 'r-99998', 'r-99999']);
    await page.fill('#result-search', '');
    await page.selectOption('#result-type', 'errored');
    await expect.poll(() => textOf(page, '.results-status'), SETTLE).toBe('100,000 results, 0 shown');
    expect(await textOf(page, '#result-type option[value="succeeded"]')).toBe('succeeded (100,000)');
    await context.close();
    // Each step may wait up to its own 60 s while the rest of the suite loads the machine.
  }, 180_000);
});
