#!/usr/bin/env node
/**
 * Installs the four published packages the way a user gets them (`pnpm pack`, then `npm install`
 * of the tarballs into an empty project, with no workspace around) and uses them from ESM and
 * from CommonJS: a server, the client's three APIs, core's helpers and the testkit's scripted
 * peer and bin. publint and attw check the package manifests and types; this checks that what
 * they describe runs. Needs `pnpm build` first (`pnpm check:installed` does both).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cjsProgram, esmProgram } from './usage-programs.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['core', 'server', 'client', 'testkit'];
const work = mkdtempSync(join(tmpdir(), 'ws-installed-'));
const run = (command, args, cwd) => execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 }).toString();

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
  for (const name of packages) run('pnpm', ['pack', '--pack-destination', work], join(root, 'packages', name));
  const tarballs = readdirSync(work).filter((file) => file.endsWith('.tgz')).map((file) => join(work, file));
  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // The packages have no dependencies outside these tarballs: nothing is fetched.
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], project);
  writeFileSync(join(project, 'esm.mjs'), ESM);
  writeFileSync(join(project, 'cjs.cjs'), CJS);
  process.stdout.write(run(process.execPath, ['esm.mjs'], project));
  process.stdout.write(run(process.execPath, ['cjs.cjs'], project));
  const usage = run(join(project, 'node_modules', '.bin', 'ws-testkit'), ['--help'], project);
  if (!usage.includes('ws-testkit server')) throw new Error(`ws-testkit --help printed:\n${usage}`);
  console.log('ws-testkit bin: ok');
} finally {
  rmSync(work, { recursive: true, force: true });
}
