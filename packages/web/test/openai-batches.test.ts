import type { Browser } from 'playwright-core';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatLine, openAIClient, uploadLines, waitForBatch } from '../../server/test-support/api/openai.js';
import { startServer } from '../../server/test-support/process/server-process.js';
import { API_KEY, launchBrowser, openDashboard, screenshot, textOf } from './support/browser.js';

/** Batches made through the OpenAI Batch API, as the dashboard shows them beside message batches. */

let browser: Browser;
let url: string;
let client: OpenAI;

beforeAll(async () => {
  const [server, launched] = await Promise.all([startServer(), launchBrowser()]);
  browser = launched;
  url = server.url;
  client = openAIClient(url, API_KEY);
});

afterAll(async () => {
  await browser?.close();
});

async function createBatch(lines: unknown[]) {
  const file = await uploadLines(client, lines);
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { team: 'search' } });
}

describe('OpenAI batches in the dashboard', () => {
  it('lists them with their API badge, endpoint and tokens, and shows a batch with its model, usage and result files', async () => {
    const created = await createBatch([chatLine('q-1', 'Hello dashboard'), chatLine('q-2', 'emulator:error=invalid_request_error')]);
    const done = await waitForBatch(client, created.id);
    expect(done.status).toBe('completed');
    const failed = await createBatch(['not json']);

    const { context, page } = await openDashboard(browser, url, { apiKey: API_KEY });
    try {
      const row = `#openai-batches tr[data-batch-id="${done.id}"]`;
      await page.waitForSelector(row);
      expect(await textOf(page, `${row} .badge-dialect`)).toBe('OpenAI');
      expect(await textOf(page, `${row} [data-status]`)).toBe('completed');
      expect(await textOf(page, `#openai-batches tr[data-batch-id="${failed.id}"] [data-status]`)).toBe('failed');
      expect(await textOf(page, `${row} .col-endpoint`)).toBe('/v1/chat/completions');
      expect(done.usage!.total_tokens).toBeGreaterThan(0);
      expect(await textOf(page, `${row} .col-tokens`)).toBe(String(done.usage!.total_tokens));
      expect(await page.getAttribute(`${row} .col-tokens`, 'title')).toContain(`Input tokens: ${done.usage!.input_tokens}`);
      await screenshot(page, 'openai-batch-list');

      await page.click(`${row} a`);
      await page.waitForSelector('h1.batch-id');
      expect(await textOf(page, 'h1.batch-id')).toBe(done.id);
      const facts = await page.$$eval('.facts', (lists) => lists.map((list) => list.textContent ?? ''));
      expect(facts.join(' ')).toContain('Total2Completed1Failed1');
      expect(facts.join(' ')).toContain('search');
      expect(facts.join(' ')).toContain('Endpoint/v1/chat/completionsModelgpt-4o-mini');
      const usage = done.usage!;
      expect(facts.join(' ')).toContain(`Input tokens${usage.input_tokens}Cached0Output tokens${usage.output_tokens}Reasoning0Total tokens${usage.total_tokens}`);
      await page.getByRole('button', { name: 'Show output file' }).click();
      await page.waitForSelector(`.file-view[data-file-id="${done.output_file_id}"]:not([hidden])`);
      const output = (await textOf(page, `.file-view[data-file-id="${done.output_file_id}"]`)).split('\n').map((line) => JSON.parse(line));
      expect(output).toMatchObject([{ custom_id: 'q-1', response: { status_code: 200, body: { object: 'chat.completion' } } }]);
      await page.getByRole('button', { name: 'Show error file' }).click();
      await page.waitForSelector(`.file-view[data-file-id="${done.error_file_id}"]:not([hidden])`);
      expect(await textOf(page, `.file-view[data-file-id="${done.error_file_id}"]`)).toContain('"custom_id":"q-2"');
      await screenshot(page, 'openai-batch-detail');

      await page.goto(`${url}/#/openai/${failed.id}`);
      await page.waitForSelector('.validation-errors li');
      expect(await textOf(page, '.validation-errors li[data-line="1"]')).toContain('invalid_json_line');
      await screenshot(page, 'openai-batch-failed');
    } finally {
      await context.close();
    }
  });
});
