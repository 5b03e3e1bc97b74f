import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Screenshots land here (gitignored), for people to look at. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

export const API_KEY = 'dashboard-test-key';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface SeenRequest {
  method: string;
  url: string;
}

export interface Dashboard {
  context: BrowserContext;
  page: Page;
  /** Every request any page of this context sent, in order. */
  requests: SeenRequest[];
}

/**
 * A fresh browser context (empty storage) with one page at `baseURL`. With `apiKey`, the key is
 * in local storage before the dashboard loads, as if entered earlier.
 */
export async function openDashboard(
  browser: Browser,
  baseURL: string,
  options: { apiKey?: string; viewport?: { width: number; height: number }; hash?: string } = {},
): Promise<Dashboard> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 860 }, acceptDownloads: true });
  const requests: SeenRequest[] = [];
  context.on('request', (request) => requests.push({ method: request.method(), url: request.url() }));
  if (options.apiKey !== undefined) {
    await context.addInitScript((key) => localStorage.setItem('batchd.apiKey', key), options.apiKey);
  }
  const page = await context.newPage();
  await page.goto(`${baseURL}/${options.hash ?? ''}`);
  return { context, page, requests };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The text of the first element matching `selector`, trimmed; empty when there is none. */
export async function textOf(page: Page, selector: string): Promise<string> {
  const element = await page.$(selector);
  return ((await element?.textContent()) ?? '').trim();
}
