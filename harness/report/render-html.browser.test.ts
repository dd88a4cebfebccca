// Opens the HTML report in a real Chromium: the string tests cannot tell whether the CSS applies, whether bars
// have a size, or whether <details> opens.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResults } from '../results/types.ts';
import { renderHtml } from './render-html.ts';
import { renderJunit } from './render-junit.ts';
import { loadFixture, sparseRun, XSS } from './test-support.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
// Locally a missing browser skips with the reason in the suite name; in CI it must fail, not go quietly green.
const runSuite = hasChromium || Boolean(process.env.CI);
const suiteName = runSuite
  ? 'render-html in Chromium'
  : `render-html in Chromium (skipped: ${CHROMIUM} not found; apt-get install -y chromium)`;

interface Opened {
  page: Page;
  consoleErrors: string[];
  foreignRequests: string[];
  dialogs: string[];
}

describe.skipIf(!runSuite)(suiteName, () => {
  let browser: Browser;
  let dir: string;
  const opened: Opened[] = [];
  const run = loadFixture('sample-run');

  async function open(results: RunResults, name: string): Promise<Opened> {
    const file = join(dir, `${name}.html`);
    await writeFile(file, renderHtml(results));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const o: Opened = { page, consoleErrors: [], foreignRequests: [], dialogs: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') o.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => o.consoleErrors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) o.foreignRequests.push(r.url());
    });
    page.on('dialog', (d) => {
      o.dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    opened.push(o);
    return o;
  }

  beforeAll(async () => {
    if (!hasChromium)
      throw new Error(`Chromium is required in CI but ${CHROMIUM} does not exist (apt-get install -y chromium)`);
    dir = await mkdtemp(join(tmpdir(), 'sdgrade-html-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has one matrix cell per check with the right data-status, styled by status', async () => {
    const { page } = await open(run, 'sample');
    const cells = await page.locator('[data-testid="matrix-cell"]').evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute('data-check-id'),
        status: el.getAttribute('data-status'),
        background: getComputedStyle(el).backgroundColor,
        title: el.getAttribute('title') ?? '',
      })),
    );
    const checks = run.chapters[0]!.checks;
    expect(cells.map(({ id, status }) => ({ id, status }))).toEqual(checks.map(({ id, status }) => ({ id, status })));
    // The stylesheet applied: pass and fail cells are the palette's green and red.
    expect(cells.find((c) => c.id === 'URL-C1')?.background).toBe('rgb(26, 127, 55)');
    expect(cells.find((c) => c.id === 'URL-I2')?.background).toBe('rgb(207, 34, 46)');
    expect(cells.find((c) => c.id === 'URL-F2')?.title).toContain('needs network-faults');
  });

  it('draws the charts as SVGs with visible bars', async () => {
    const { page } = await open(run, 'charts');
    for (const id of ['latency-chart', 'throughput-chart']) {
      const tag = await page.locator(`[data-testid="${id}"]`).evaluate((el) => `${el.namespaceURI} ${el.tagName}`);
      expect(tag).toBe('http://www.w3.org/2000/svg svg');
    }
    const bars = [
      ...(await page.locator('[data-testid="latency-bar"]').all()),
      ...(await page.locator('[data-testid="throughput-bar"]').all()),
    ];
    expect(bars).toHaveLength(10 + 4);
    for (const bar of bars) {
      const box = await bar.boundingBox();
      expect(box?.width).toBeGreaterThan(0);
      expect(box?.height).toBeGreaterThan(0);
    }
    expect(await page.locator('[data-testid="latency-target-line"]').count()).toBe(2);
  });

  it('opens a failed check on click and shows its reason, seed and exchange', async () => {
    const { page } = await open(run, 'details');
    const details = page.locator('details[data-check-id="URL-I2"]');
    const reason = details.locator('[data-testid="failure-reason"]');
    expect(await details.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    expect(await reason.isVisible()).toBe(false);
    await details.locator('summary').click();
    expect(await details.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(true);
    expect(await reason.isVisible()).toBe(true);
    expect(await reason.textContent()).toBe(run.chapters[0]!.checks[5]!.reason);
    expect(await details.locator('[data-testid="exchange"]').textContent()).toContain(
      'POST http://127.0.0.1:41733/api/v1/data/shorten',
    );
    expect(await details.textContent()).toContain('771632204');
  });

  it('jumps from a failed matrix cell to its details', async () => {
    const { page } = await open(run, 'jump');
    await page.locator('[data-testid="matrix-cell"][data-check-id="URL-I7"]').click();
    expect(await page.evaluate(() => location.hash)).toBe('#detail-09-url-shortener-URL-I7');
    expect(await page.locator('details[data-check-id="URL-I7"]').isVisible()).toBe(true);
  });

  it('shows hostile strings as text and runs nothing', async () => {
    const evil = loadFixture('sample-run');
    evil.chapters[0]!.checks[5]!.reason = XSS;
    evil.chapters[0]!.title = XSS;
    const { page, dialogs } = await open(evil, 'evil');
    expect(await page.locator('script, img').count()).toBe(0);
    await page.locator('details[data-check-id="URL-I2"] summary').click();
    expect(await page.locator('details[data-check-id="URL-I2"] [data-testid="failure-reason"]').textContent()).toBe(
      XSS,
    );
    expect(dialogs).toEqual([]);
  });

  it('renders a chapter without load or targets', async () => {
    const { page } = await open(sparseRun(), 'sparse');
    expect(await page.locator('svg').count()).toBe(0);
    expect(await page.locator('[data-testid="no-load"]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="no-targets"]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="matrix-cell"]').count()).toBe(2);
  });

  it('produces JUnit XML that a browser XML parser accepts', async () => {
    const { page } = await open(run, 'junit');
    const evil = loadFixture('sample-run');
    evil.chapters[0]!.checks[5]!.reason = `${XSS}\u0001]]>`;
    const parsed = await page.evaluate((xml) => {
      const doc = new DOMParser().parseFromString(xml, 'application/xml');
      return {
        error: doc.querySelector('parsererror')?.textContent ?? null,
        cases: doc.querySelectorAll('testcase').length,
        message: doc.querySelector('failure')?.getAttribute('message') ?? null,
      };
    }, renderJunit(evil));
    expect(parsed.error).toBeNull();
    expect(parsed.cases).toBe(22);
    expect(parsed.message).toBe(`${XSS}]]>`);
  });

  it('logged no console errors and requested nothing but the file itself', async () => {
    const { page } = await open(run, 'shot');
    await page.locator('details[data-check-id="URL-I2"] summary').click();
    await page.screenshot({ path: '/tmp/report-shot.png', fullPage: true });
    expect(opened.length).toBeGreaterThan(1);
    expect(opened.flatMap((o) => o.consoleErrors)).toEqual([]);
    expect(opened.flatMap((o) => o.foreignRequests)).toEqual([]);
  });
});
