import { BatchdClient, NotFoundError } from '@batchd/sdk';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../../server/test-support/process/server-process.js';
import { API_KEY, launchBrowser, openDashboard, screenshot, textOf, type Dashboard, type SeenRequest } from './support/browser.js';
import { failingRequest, request, toJsonl } from './support/requests.js';

let server: ServerHandle;
/** One emulator call at a time, half a second each: a batch stays in progress long enough to cancel. */
let slowServer: ServerHandle;
let browser: Browser;
let api: BatchdClient;
let slowApi: BatchdClient;
/** Every request the browser sent in any test, checked by the last test. */
const seen: SeenRequest[] = [];

beforeAll(async () => {
  [server, slowServer, browser] = await Promise.all([
    startServer({ flags: { 'emulator-latency-ms': 50 } }),
    startServer({ flags: { 'emulator-latency-ms': 500, concurrency: 1 } }),
    launchBrowser(),
  ]);
  api = new BatchdClient({ apiKey: API_KEY, baseURL: server.url });
  slowApi = new BatchdClient({ apiKey: API_KEY, baseURL: slowServer.url });
});

afterAll(async () => {
  await browser?.close();
});

const opened = new Set<Dashboard>();

afterEach(async () => {
  for (const dashboard of opened) seen.push(...dashboard.requests);
  await Promise.all([...opened].map((dashboard) => dashboard.context.close()));
  opened.clear();
});

/** A dashboard in a fresh browser context, closed after the test. */
async function open(base: ServerHandle, options: Parameters<typeof openDashboard>[2] = { apiKey: API_KEY }): Promise<Dashboard> {
  const dashboard = await openDashboard(browser, base.url, options);
  opened.add(dashboard);
  return dashboard;
}

/** Conditions in the page settle within a few polls; the cap only bounds a failing run. */
const SETTLE = { timeout: 20_000, interval: 100 };

describe('the dashboard in chromium', () => {
  it('asks for an API key first and keeps it in local storage', async () => {
    const { page } = await open(server, {});
    await page.waitForSelector('#api-key');
    expect(await textOf(page, '.banner-info')).toContain('Enter an API key');
    await page.fill('#api-key', API_KEY);
    await page.getByRole('button', { name: 'Save key' }).click();
    await page.waitForSelector('h1:text-is("Batches")');
    expect(await page.evaluate(() => localStorage.getItem('batchd.apiKey'))).toBe(API_KEY);
    await page.reload();
    await page.waitForSelector('h1:text-is("Batches")');
    expect(await page.$('#api-key')).toBeNull();
  });

  it('shows the problems of a malformed file by line number and uploads nothing', async () => {
    const { page, requests } = await open(server, { apiKey: API_KEY, hash: '#/new' });
    const file = toJsonl([
      request('ok-1'),
      '{"custom_id": "broken", "params": ',
      request('has space'),
      request('ok-1'),
      '{"custom_id": "arr", "params": []}',
      '',
      '{"custom_id": "extra", "params": {}, "method": "POST"}',
    ]);
    await page.setInputFiles('#jsonl-file', { name: 'bad.jsonl', mimeType: 'application/x-jsonl', buffer: Buffer.from(file) });
    await page.waitForSelector('.validation-errors');
    const problems = Object.fromEntries(
      await page.$$eval('.validation-errors li', (items) => items.map((item) => [item.getAttribute('data-line'), item.textContent ?? ''])),
    );
    expect(Object.keys(problems).sort()).toEqual(['2', '3', '4', '5', '7']);
    expect(problems['2']).toContain('not valid JSON');
    expect(problems['3']).toContain('"has space" must be 1 to 64 letters');
    expect(problems['4']).toContain('already used on line 1');
    expect(problems['5']).toContain('"params" must be a JSON object');
    expect(problems['7']).toContain('unexpected field "method"');
    expect(await textOf(page, '.validation-errors')).toContain('5 problems found; nothing was uploaded');
    expect(await page.$('button:has-text("Create batch")')).toBeNull();
    await screenshot(page, 'dashboard-upload-errors');
    expect(requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('uploads a JSONL file, shows the batch ending in the list, and browses its results', async () => {
    const { page } = await open(server, { apiKey: API_KEY, hash: '#/new' });
    const file = toJsonl([...['q-1', 'q-2', 'q-3', 'q-4', 'q-5'].map((id) => request(id, `Question ${id}`)), failingRequest('bad-1')]);
    await page.setInputFiles('#jsonl-file', { name: 'requests.jsonl', mimeType: 'application/x-jsonl', buffer: Buffer.from(file) });
    await page.getByRole('button', { name: 'Create batch of 6 requests' }).click();
    await page.waitForSelector('h1.batch-id');
    const id = await textOf(page, 'h1.batch-id');
    expect(id).toMatch(/^msgbatch_/);
    expect(page.url()).toContain(`#/batches/${id}`);

    // Company in the list: a batch still running (two slow requests) and an older, finished one.
    await api.messages.batches.create({ requests: [request('older-1'), request('older-2'), request('older-3')] });
    const slow = (customId: string) => request(customId, 'Take your time.', 'emulator:latency=20000');
    const running = await api.messages.batches.create({ requests: [request('r-1'), request('r-2'), slow('r-3'), slow('r-4')] });
    await page.getByRole('link', { name: 'Batches', exact: true }).click();
    await page.waitForSelector(`tr[data-batch-id="${id}"] .badge[data-status="ended"]`);
    await page.waitForSelector(`tr[data-batch-id="${running.id}"] .progress-text:text-is("2 of 4 done")`);
    expect(await page.getAttribute(`tr[data-batch-id="${running.id}"] .badge`, 'data-status')).toBe('in_progress');
    expect(await textOf(page, `tr[data-batch-id="${id}"] .progress-text`)).toBe('6 of 6 done');
    expect(await page.getAttribute(`tr[data-batch-id="${id}"] .progress`, 'aria-label')).toBe('Progress: 5 succeeded, 1 errored');
    await screenshot(page, 'dashboard-list');

    await page.selectOption('#status-filter', 'in_progress');
    await page.waitForURL(/#\/\?status=in_progress$/);
    await expect.poll(() => page.$$eval('tbody tr', (rows) => rows.map((row) => row.getAttribute('data-batch-id'))), SETTLE).toEqual([running.id]);
    await page.selectOption('#status-filter', 'ended');
    await page.waitForSelector(`tr[data-batch-id="${id}"]`);
    expect(await page.$$eval('tbody .badge', (badges) => badges.map((badge) => badge.getAttribute('data-status')))).toEqual(['ended', 'ended']);

    await page.click(`tr[data-batch-id="${id}"] a`);
    await page.waitForSelector('h1.batch-id');
    await expect.poll(() => textOf(page, 'dd[data-count="succeeded"]'), SETTLE).toBe('5');
    expect(await textOf(page, 'dd[data-count="errored"]')).toBe('1');
    await expect.poll(() => textOf(page, 'dd[data-usage="output_tokens"]'), SETTLE).toMatch(/^[1-9]/);
    expect(await page.getAttribute('li[data-event="ended_at"]', 'class')).toBe('done');
    await screenshot(page, 'dashboard-detail');

    await page.getByRole('link', { name: 'View results' }).click();
    await expect.poll(() => textOf(page, '.results-status'), SETTLE).toBe('6 results, 6 shown');
    await page.selectOption('#result-type', 'errored');
    await expect.poll(() => page.$$eval('.result-row', (rows) => rows.map((row) => row.getAttribute('data-custom-id'))), SETTLE).toEqual(['bad-1']);
    await page.click('.result-row');
    expect(await textOf(page, '.result-view .error-type')).toBe('invalid_request_error');
    expect(await textOf(page, '.result-view .error-message')).not.toBe('');

    await page.selectOption('#result-type', '');
    await page.fill('#result-search', 'Q-2');
    await expect.poll(() => page.$$eval('.result-row', (rows) => rows.map((row) => row.getAttribute('data-custom-id'))), SETTLE).toEqual(['q-2']);
    await page.click('.result-row');
    expect(await textOf(page, '.result-view .text-block')).toBe('[emulator] Question q-2');
    await page.click('.result-view summary:has-text("Show JSON")');
    // The JSON is rendered on the toggle event, which follows the click.
    await expect.poll(() => textOf(page, '.json-toggle pre'), SETTLE).toContain('"custom_id": "q-2"');
    await screenshot(page, 'dashboard-results');
  });

  it('shows the results of a running batch as they finish', async () => {
    // Ten requests one at a time, 500 ms each: the batch runs for 5 s, time for a loaded machine to open the page.
    const ids = Array.from({ length: 10 }, (_, i) => `p-${i + 1}`);
    const batch = await slowApi.messages.batches.create({ requests: ids.map((id) => request(id)) });
    const { page } = await open(slowServer, { apiKey: API_KEY, hash: `#/batches/${batch.id}` });
    await page.getByRole('link', { name: 'View results' }).click();
    await page.waitForSelector('.banner-info:has-text("still running")');
    // Seen part way: some results are listed while the batch still runs.
    await expect.poll(async () => /^Loading… [1-9] results so far/.test(await textOf(page, '.results-status')), SETTLE).toBe(true);
    await expect.poll(() => textOf(page, '.results-status'), SETTLE).toBe('10 results, 10 shown');
    expect(await page.$('.banner-info')).toBeNull();
    expect(await page.$$eval('.result-row', (rows) => rows.map((row) => row.getAttribute('data-custom-id')))).toEqual(ids);
  });

  it('cancels a running batch only after confirmation', async () => {
    const batch = await slowApi.messages.batches.create({ requests: Array.from({ length: 40 }, (_, i) => request(`slow-${i}`)) });
    const { page } = await open(slowServer, { apiKey: API_KEY, hash: `#/batches/${batch.id}` });
    // The chart draws the counts sampled while the page is open.
    await expect.poll(() => page.$eval('.chart-line', (line) => line.getAttribute('d')?.split('H').length ?? 0).catch(() => 0), SETTLE).toBeGreaterThanOrEqual(4);
    expect(await textOf(page, '.chart-summary')).toMatch(/^Latest [\d.]+\/s · peak [\d.]+\/s · \d+ results in \d+s$/);
    await screenshot(page, 'dashboard-detail-running');
    const cancel = page.getByRole('button', { name: 'Cancel batch' });
    await cancel.click();
    await page.locator('dialog').getByRole('button', { name: 'Go back' }).click();
    expect((await slowApi.messages.batches.retrieve(batch.id)).cancel_initiated_at).toBeNull();

    await cancel.click();
    await page.locator('dialog').getByRole('button', { name: 'Cancel batch' }).click();
    await page.waitForSelector('.title-row .badge[data-status="ended"]');
    const canceled = Number(await textOf(page, 'dd[data-count="canceled"]'));
    expect(canceled).toBeGreaterThan(0);
    expect(await page.getAttribute('li[data-event="cancel_initiated_at"]', 'class')).toBe('done');
    const after = await slowApi.messages.batches.retrieve(batch.id);
    expect(after.cancel_initiated_at).not.toBeNull();
    expect(after.request_counts.canceled).toBe(canceled);
  });

  it('deletes an ended batch only after confirmation', async () => {
    const batch = await api.messages.batches.create({ requests: [request('d-1'), request('d-2')] });
    await api.messages.batches.wait(batch.id, { pollInterval: 100 });
    const { page } = await open(server, { apiKey: API_KEY, hash: `#/batches/${batch.id}` });
    await page.getByRole('button', { name: 'Delete batch' }).click();
    await page.locator('dialog').getByRole('button', { name: 'Delete batch' }).click();
    await page.waitForSelector('h1:text-is("Batches")');
    expect(await textOf(page, '.banner-ok')).toBe(`Batch ${batch.id} was deleted.`);
    await page.waitForSelector('tbody tr');
    expect(await page.$(`tr[data-batch-id="${batch.id}"]`)).toBeNull();
    await expect(api.messages.batches.retrieve(batch.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('shows each backend with its concurrency limit and call counts', async () => {
    const { page } = await open(server, { apiKey: API_KEY, hash: '#/backends' });
    const row = 'tr[data-backend="emulator"]';
    await page.waitForSelector(row);
    expect(await textOf(page, `${row} .backend-type`)).toBe('emulator');
    expect(Number(await textOf(page, `${row} td[data-label="Concurrency limit"]`))).toBeGreaterThan(0);
    expect(Number(await textOf(page, `${row} td[data-label="Calls"]`))).toBeGreaterThanOrEqual(6);
    expect(await textOf(page, `${row} td[data-label="429 rate"]`)).toBe('0%');
    await screenshot(page, 'dashboard-backends');
  });

  it('keeps the list and a batch usable at phone width', async () => {
    const { page } = await open(server, { apiKey: API_KEY, viewport: { width: 390, height: 844 } });
    await page.waitForSelector('tbody tr .badge[data-status="ended"]');
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    const link = page.locator('tbody tr:has(.badge[data-status="ended"]) a').first();
    const box = await link.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await page.isVisible('tbody tr .progress')).toBe(true);
    await screenshot(page, 'dashboard-list-phone');
    await link.click();
    await page.waitForSelector('dd[data-count="succeeded"]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'dashboard-detail-phone');
    await page.getByRole('link', { name: 'View results' }).click();
    await page.waitForSelector('.result-row');
    await page.click('.result-row');
    await page.waitForSelector('.result-view');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'dashboard-results-phone');
  });

  it('can be used from the keyboard', async () => {
    const { page } = await open(server);
    await page.waitForSelector('h1:text-is("Batches")');
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
    const reached: string[] = [];
    for (let i = 0; i < 8 && !reached.includes('New batch'); i++) {
      await page.keyboard.press('Tab');
      reached.push(await focused());
    }
    expect(reached).toEqual(expect.arrayContaining(['Skip to content', 'Batches', 'New batch']));
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    await page.waitForSelector('h1:text-is("New batch")');
  });

  it('sent no request to any host but the server', () => {
    const origins = new Set(seen.map((request) => new URL(request.url).origin));
    expect(seen.length).toBeGreaterThan(20);
    expect([...origins].sort()).toEqual([server.url, slowServer.url].sort());
  });
});
