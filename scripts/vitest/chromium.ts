import { type Browser, chromium, type LaunchOptions } from 'playwright-core';
import { systemToolPath } from './system-tools.js';

/**
 * Debian's Chromium (or CHROMIUM_PATH), which playwright-core drives without downloading a
 * browser; undefined when it is missing. Browser tests run under
 * `describe.skipIf(CHROMIUM === undefined)`: the project's global setup prints the one line a
 * local run shows for it, and fails the run instead under CI=true (system-tools-setup.ts).
 */
export const CHROMIUM = systemToolPath('chromium');

/** Headless, and quiet: no sandbox (containers), no QUIC, none of the browser's own traffic. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts headless Chromium; close the browser it resolves with after the tests. */
export function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (CHROMIUM === undefined) throw new Error('launchChromium: no Chromium; run browser tests under describe.skipIf(CHROMIUM === undefined)');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000, ...options });
}
