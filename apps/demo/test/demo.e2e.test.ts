import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../../../scripts/vitest/chromium.js';
import { createDemoServer, type DemoServer } from '../src/create-demo-server.js';

// Without Chromium these tests skip, with the one line the project's global setup prints;
// under CI=true that setup fails the run instead (scripts/vitest/chromium.ts).

/** Not committed: `test-artifacts/` is ignored at the root. */
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const WAIT = { timeout: 10_000 };

describe.skipIf(CHROMIUM === undefined)('the demo in headless Chromium', () => {
  const logLines: string[] = [];
  let demo: DemoServer;
  let browser: Browser;
  let alice: Page;

  beforeAll(async () => {
    // A quick heartbeat, so that the connection panel has a latency to show within the test.
    demo = await createDemoServer({ port: 0, log: (line) => logLines.push(line), heartbeatInterval: 200 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** A field of a card in the connection panel. */
  function field(page: Page, connection: 'echo' | 'chat', name: string) {
    return page.locator(`[data-connection="${connection}"] [data-field="${name}"]`);
  }

  it('loads the page, which opens its echo and chat connections on the same port', async () => {
    alice = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const response = await alice.goto(`${demo.url}?name=alice`);
    expect(response?.status()).toBe(200);
    expect(await alice.title()).toBe('@ws demo');
    await expect.poll(() => field(alice, 'echo', 'state').textContent(), WAIT).toBe('open');
    await expect.poll(() => field(alice, 'chat', 'state').textContent(), WAIT).toBe('open');
    expect(await field(alice, 'echo', 'url').textContent()).toBe(demo.webSocketUrl);
    expect(logLines.some((line) => / open \/chat\?name=alice&transport from 127\.0\.0\.1:\d+$/.test(line))).toBe(true);
    // The server said which protocol each WebSocket rides: plain HTTP here, so an upgrade.
    await expect.poll(() => field(alice, 'echo', 'transport').textContent(), WAIT).toBe('HTTP/1.1');
    await expect.poll(() => field(alice, 'chat', 'transport').textContent(), WAIT).toBe('HTTP/1.1');
  });

  it('echoes text', async () => {
    await alice.fill('#echo-text', 'hello from Chromium');
    await alice.click('#echo-text-form button');
    const reply = alice.locator('#echo-log li.received[data-kind="text"] q');
    await expect.poll(() => reply.first().textContent(), WAIT).toBe('hello from Chromium');
    expect(logLines).toContainEqual(expect.stringMatching(/ message text 19 bytes "hello from Chromium"$/));
  });

  it('echoes a 262145-byte binary intact, and the log shows the fragments Chromium sent', async () => {
    await alice.fill('#echo-size', '262145');
    await alice.click('#echo-binary-form button');
    const reply = alice.locator('#echo-log li.received[data-kind="binary"]').first();
    await expect.poll(() => reply.getAttribute('data-intact'), WAIT).toBe('true');
    expect(await reply.textContent()).toContain('binary 262145 bytes');

    const messageLine = logLines.find((line) => / message binary 262145 bytes/.test(line));
    expect(messageLine).toBeDefined();
    // Chromium splits a large message into frames of at most 128 KiB (older versions cut
    // exactly 131072; today's Chromium cuts where its data pipe does): the log shows each
    // one, and they add up to the message.
    const connection = /^(#\d+) /.exec(messageLine!)![1];
    const fragments = logLines
      .filter((line) => line.startsWith(`${connection} fragment `))
      .map((line) => Number(/: (\d+) bytes$/.exec(line)![1]));
    expect(fragments.length).toBeGreaterThan(1);
    for (const size of fragments) expect(size).toBeLessThanOrEqual(131072);
    expect(fragments.reduce((sum, size) => sum + size, 0)).toBe(262145);
    expect(messageLine).toContain(`in ${fragments.length} fragments`);

    expect(await field(alice, 'echo', 'bytes-out').textContent()).toBe('256.0 KiB');
    expect(await field(alice, 'echo', 'bytes-in').textContent()).toBe('256.0 KiB');
  });

  it('lets two pages chat, and sees joins, renames and leaves', async () => {
    const bob = await browser.newPage();
    await bob.goto(`${demo.url}?name=bob`);
    await expect.poll(() => alice.locator('#chat-messages li.system').last().textContent(), WAIT).toBe('bob joined.');
    await expect.poll(() => alice.locator('#chat-members .name').allTextContents(), WAIT).toEqual(['alice', 'bob']);

    await bob.fill('#chat-input', 'hi alice');
    await bob.click('#chat-form button');
    const said = alice.locator('#chat-messages li.said').last();
    await expect.poll(() => said.locator('.text').textContent(), WAIT).toBe('hi alice');
    expect(await said.locator('.name').textContent()).toBe('bob');

    await alice.fill('#chat-input', 'hello bob');
    await alice.click('#chat-form button');
    await expect.poll(() => bob.locator('#chat-messages li.said .text').last().textContent(), WAIT).toBe('hello bob');

    await bob.fill('#chat-name', 'robert');
    await bob.click('#chat-name-form button');
    await expect.poll(() => alice.locator('#chat-messages li.system').last().textContent(), WAIT).toBe(
      'bob is now robert.',
    );

    await bob.close();
    await expect.poll(() => alice.locator('#chat-messages li.system').last().textContent(), WAIT).toBe(
      'robert left.',
    );
    await expect.poll(() => alice.locator('#chat-members .name').allTextContents(), WAIT).toEqual(['alice']);
  });

  it('shows the heartbeat latency in the connection panel, and takes a screenshot', async () => {
    await expect.poll(() => field(alice, 'chat', 'latency').textContent(), WAIT).toMatch(/^\d+(\.\d)? ms$/);
    await mkdir(ARTIFACTS, { recursive: true });
    await alice.screenshot({ path: `${ARTIFACTS}demo-page.png`, fullPage: true });
  });

  it('answers a WebSocket opened from the browser console', async () => {
    const received: string[] = [];
    alice.on('console', (message) => received.push(message.text()));
    // Typed in the console as two lines: `send` only works once the connection is open.
    await alice.evaluate(
      `var ws = new WebSocket("${demo.webSocketUrl.replace(/\/$/, '')}"); ws.onmessage = e => console.log(e.data);`,
    );
    await alice.waitForFunction('ws.readyState === WebSocket.OPEN', undefined, WAIT);
    await alice.evaluate("ws.send('hello world')");
    await expect.poll(() => received, WAIT).toContain('hello world');
  });

  it('closes every connection with 1001 on shutdown, which the page shows', async () => {
    await demo.close();
    await expect.poll(() => field(alice, 'echo', 'close').textContent(), WAIT).toBe('1001 Server shutting down');
    expect(await field(alice, 'chat', 'close').textContent()).toBe('1001 Server shutting down');
    expect(await field(alice, 'echo', 'state').textContent()).toBe('closed');
    expect(logLines).toContainEqual(expect.stringMatching(/ close 1001 "Server shutting down" \(clean\)$/));
  });
});
