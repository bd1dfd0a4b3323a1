// Browser-test harness: Debian's chromium driven by puppeteer-core (never a downloaded browser), with the same
// gating as the interop suites (under CI=true a missing browser fails; locally it skips).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import puppeteer, { type Browser, type ConsoleMessage, type Page } from 'puppeteer-core';
import { gate, type Gate } from '../interop/support.js';

export const CHROMIUM = process.env.VSCR_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-output', 'panel');

export function browserGate(extra: [string, string][] = []): Gate {
  return gate([[CHROMIUM, 'chromium'], ...extra]);
}

export async function launchBrowser(): Promise<Browser> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: no sandbox; small /dev/shm: use /tmp instead.
    args: ['--no-sandbox', '--headless=new', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
    protocolTimeout: 60_000,
  });
}

/** What a page said on its console at level error, and the exceptions it threw. */
export interface PageProblems {
  errors: string[];
}

export async function openPage(browser: Browser, width = 1280, height = 900): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport({ width, height });
  const problems: PageProblems = { errors: [] };
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') problems.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e: unknown) => problems.errors.push(`exception: ${e instanceof Error ? e.message : String(e)}`));
  return { page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
}
