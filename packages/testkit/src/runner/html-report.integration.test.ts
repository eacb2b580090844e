import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../../../../scripts/vitest/chromium.js';
import { hex } from '../peer/hex.js';
import { buildReport, type CaseResult } from './conformance-report.js';
import { renderHtmlReport } from './html-report.js';

const passed = (id: string): CaseResult => ({
  id,
  section: Number(id.split('.')[0]),
  description: `case ${id}`,
  rfc: 'RFC 6455 §5.2',
  outcome: 'pass',
  reason: 'echoed',
  durationMs: 1,
  notes: [],
  transcript: [{ kind: 'received', at: 0.4, bytes: hex`81 05 48 65 6c 6c 6f`, length: 7 }],
});

describe.skipIf(CHROMIUM === undefined)('the HTML report in a browser', () => {
  let browser: Browser;
  let directory: string;
  let file: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'ws-testkit-html-'));
    file = path.join(directory, 'index.html');
    const report = buildReport({
      target: { kind: 'server', description: 'ws://127.0.0.1:9001' },
      agent: 'test',
      startedAt: new Date(),
      results: [passed('1.1.1'), passed('2.1'), passed('7.1.1')],
    });
    await writeFile(file, renderHtmlReport(report));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('opens the case an address points to, and the case a link in the page points to', async () => {
    const page = await browser.newPage();
    const isOpen = (id: string) => page.locator(`details[id="case-${id}"]`).evaluate((details) => (details as { open?: boolean }).open === true);
    await page.goto(`${pathToFileURL(file).href}#case-2.1`);
    expect(await isOpen('2.1')).toBe(true);
    expect(await isOpen('7.1.1')).toBe(false);

    await page.click('a[href="#case-7.1.1"]');
    await expect.poll(() => isOpen('7.1.1'), { timeout: 5_000 }).toBe(true);
    expect(await page.locator('details[id="case-7.1.1"] pre').textContent()).toContain('|..Hello|');
  });
});
