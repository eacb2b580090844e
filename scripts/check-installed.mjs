#!/usr/bin/env node
/**
 * Installs the five published packages the way a user gets them (`pnpm pack`, then `npm install`
 * of the tarballs into an empty project, with no workspace around) and uses them from ESM, from
 * CommonJS and from TypeScript: a server, the client's three APIs, core's helpers, the testkit's
 * scripted peer and bin, and the Redis adapter on a server (against a redis-server of its own
 * when the machine has one). publint and attw check the package manifests and types; this checks
 * that what they describe runs. Needs `pnpm build` first (`pnpm check:installed` does both).
 *
 * The @ws packages come from the tarballs only; @ws/redis' one dependency outside them,
 * @redis/client, comes from the registry npm is configured with.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cjsProgram, esmProgram, usePackages } from './usage-programs.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['core', 'server', 'client', 'testkit', 'redis'];
const work = mkdtempSync(join(tmpdir(), 'ws-installed-'));
const run = (command, args, { cwd, env = {} }) =>
  execFileSync(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 }).toString();

const ESM = esmProgram({
  imports: "import { computeAcceptKey } from '@ws/core';\nimport { Connection } from '@ws/core/node';",
  checks: "assert.equal(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');\nassert.equal(typeof Connection, 'function');",
  done: 'ESM: ok',
});

const CJS = cjsProgram({
  requires: "const { encodeFrame } = require('@ws/core/wire');",
  checks: "assert.equal(encodeFrame({ opcode: 1, payload: 'hi' }).toString('hex'), '81026869');",
  done: 'CommonJS: ok',
});

try {
  for (const name of packages) run('pnpm', ['pack', '--pack-destination', work], { cwd: join(root, 'packages', name) });
  const tarballs = readdirSync(work).filter((file) => file.endsWith('.tgz')).map((file) => join(work, file));
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: project });
  // Each @ws package the tarballs depend on is one of the tarballs, never a namesake from the registry.
  const installed = JSON.parse(readFileSync(join(project, 'node_modules', '.package-lock.json'), 'utf8')).packages;
  for (const [path, entry] of Object.entries(installed)) {
    if (path.includes('node_modules/@ws/') && !entry.resolved?.startsWith('file:')) throw new Error(`${path} did not come from a tarball: ${JSON.stringify(entry)}`);
  }
  await usePackages({ project, root, run, esm: ESM, cjs: CJS, label: 'installed' });
  const usage = run(join(project, 'node_modules', '.bin', 'ws-testkit'), ['--help'], { cwd: project });
  if (!usage.includes('ws-testkit server')) throw new Error(`ws-testkit --help printed:\n${usage}`);
  console.log('ws-testkit bin: ok');
} finally {
  rmSync(work, { recursive: true, force: true });
}
