/**
 * A redis-server of the release checks' own, for the @ws/redis usage programs: Debian's
 * (REDIS_SERVER_PATH elsewhere, as for the tests), on a free loopback port, writing nothing to
 * disk. Without one the programs still run, against a Redis that is not there, and the check says
 * so in one line; under CI=true a missing redis-server fails the check instead, since `.ci/run`
 * installs it and a skip there would hide a broken install (scripts/vitest/system-tools.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

const READY_TIMEOUT_MS = 10_000;

/** A loopback port nothing listens on now (the checks' Verdaccio takes one too). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves with `{ url, stop() }`, or undefined when there is no redis-server (and CI is not set). */
export async function startRedisServer() {
  const executable = process.env.REDIS_SERVER_PATH || '/usr/bin/redis-server';
  if (!existsSync(executable)) {
    const ci = process.env.CI?.trim().toLowerCase();
    const required = ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
    if (required) throw new Error(`CI=true and the @ws/redis usage programs need redis-server, which is not at ${executable}: install the Debian package redis-server (.ci/run does) or set REDIS_SERVER_PATH.`);
    console.log(`@ws/redis against a real Redis: skipped, no redis-server at ${executable} (apt-get install redis-server, or set REDIS_SERVER_PATH).`);
    return undefined;
  }
  const port = await freePort();
  const child = spawn(executable, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // A check that gives up (its deadline, a signal) exits at once: redis-server goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  exited.then(() => process.off('exit', killOnExit));
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready after ${READY_TIMEOUT_MS / 1000} s:\n${log}`)), READY_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      log += chunk;
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${log}`));
    });
  }).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
