import { describe, expect, it } from 'vitest';
import { requiredToolMessage, skippedToolLine, systemToolLocation, systemToolPath, systemToolsRequired } from './system-tools.js';

describe('system tools', () => {
  it("looks where the tool's variable says, else at Debian's path", () => {
    expect(systemToolLocation('chromium', {})).toBe('/usr/bin/chromium');
    expect(systemToolLocation('chromium', { CHROMIUM_PATH: '/opt/chrome' })).toBe('/opt/chrome');
    expect(systemToolLocation('redis-server', {})).toBe('/usr/bin/redis-server');
    expect(systemToolPath('chromium', { CHROMIUM_PATH: '/nonexistent/chromium' })).toBeUndefined();
    expect(systemToolPath('chromium', { CHROMIUM_PATH: process.execPath })).toBe(process.execPath);
  });

  it('requires every tool under CI, as CI services set it', () => {
    expect(systemToolsRequired({ CI: 'true' })).toBe(true);
    expect(systemToolsRequired({ CI: '1' })).toBe(true);
    expect(systemToolsRequired({})).toBe(false);
    expect(systemToolsRequired({ CI: '' })).toBe(false);
    expect(systemToolsRequired({ CI: 'false' })).toBe(false);
    expect(systemToolsRequired({ CI: '0' })).toBe(false);
  });

  it('says in one line how to get a missing tool, and why CI fails without it', () => {
    expect(skippedToolLine('chromium', {})).toBe(
      'Skipping the browser tests: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH).',
    );
    expect(skippedToolLine('redis-server', {})).toContain('apt-get install redis-server');
    expect(skippedToolLine('redis-cli', {})).toBe(
      'Skipping the Redis Cluster tests: no redis-cli at /usr/bin/redis-cli (apt-get install redis-tools, or set REDIS_CLI_PATH).',
    );
    expect(requiredToolMessage('chromium', {})).toMatch(/^CI=true and the browser tests need Chromium, which is not at \/usr\/bin\/chromium/);
  });
});
