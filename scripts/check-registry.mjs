#!/usr/bin/env node
/**
 * The release flow against a real registry, on this machine: starts Verdaccio on 127.0.0.1 (a
 * free port, storage in a temp folder, anonymous publish), publishes the five packages with
 * `pnpm -r publish`, checks what the registry shows for each (description, keywords, repository,
 * license, engines, README, and only the version published), then installs them BY NAME into an
 * empty project (`npm install @ws/server @ws/client @ws/redis`, `npm install -D @ws/testkit`)
 * and uses them from ESM, CommonJS and TypeScript (`tsc --strict` under node16 and nodenext
 * resolution), the Redis adapter against a redis-server of its own when the machine has one, and
 * through the `ws-testkit` bin. check-installed.mjs does the same from packed tarballs.
 *
 * The @ws scope is served only from what was published here. Everything else (@redis/client,
 * @ws/redis' one dependency outside the repository) Verdaccio fetches through its one uplink: the
 * registry npm is configured with (`npm config get registry`), read when the check runs.
 *
 * Needs `pnpm build` first (`pnpm check:registry` does both). Bounded in time; Verdaccio is
 * stopped on every way out, failures included. Exit status 0 when everything held, 1 otherwise.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.mjs';
import { cjsProgram, esmProgram, usePackages } from './usage-programs.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['core', 'server', 'client', 'testkit', 'redis'];
/** The whole check, start to finish; a registry that hangs must not hold CI. */
const DEADLINE_MS = 5 * 60_000;
const STEP_TIMEOUT_MS = 120_000;

const work = mkdtempSync(join(tmpdir(), 'ws-registry-'));
let verdaccio;

function stopVerdaccio() {
  if (verdaccio !== undefined && verdaccio.exitCode === null && verdaccio.signalCode === null) verdaccio.kill('SIGTERM');
}

function cleanUp() {
  stopVerdaccio();
  rmSync(work, { recursive: true, force: true });
}

const deadline = setTimeout(() => {
  console.error(`check-registry: not done after ${DEADLINE_MS / 1000} s; giving up`);
  cleanUp();
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp();
    process.exit(1);
  });
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(command, args, { cwd = root, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The registry npm installs from on this machine (its user and project config), for the uplink. */
async function configuredRegistry() {
  const configured = (await run('npm', ['config', 'get', 'registry'])).trim();
  if (!URL.canParse(configured) || !/^https?:$/.test(new URL(configured).protocol)) throw new Error(`npm config get registry printed ${JSON.stringify(configured)}, not a registry URL`);
  return configured;
}

/** Starts Verdaccio with `upstream` as its uplink and resolves with its URL once it answers; rejects if it exits first. */
async function startVerdaccio(upstream) {
  const port = await freePort();
  const config = join(work, 'verdaccio.yaml');
  // JSON is YAML: no YAML writer needed.
  writeFileSync(
    config,
    JSON.stringify({
      storage: join(work, 'storage'),
      auth: { htpasswd: { file: join(work, 'htpasswd'), max_users: -1 } },
      uplinks: { upstream: { url: upstream, timeout: '60s' } },
      // The first pattern a name matches decides: @ws/* has no proxy, so a namesake upstream is never seen.
      packages: {
        '@ws/*': { access: '$all', publish: '$anonymous', unpublish: '$anonymous' },
        '**': { access: '$all', publish: '$anonymous', proxy: 'upstream' },
      },
      web: { enable: false },
      middlewares: { audit: { enabled: false } },
      log: { type: 'stdout', format: 'pretty', level: 'warn' },
    }),
  );
  const url = `http://127.0.0.1:${port}/`;
  const bin = join(root, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  verdaccio = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  verdaccio.stdout.on('data', (chunk) => (output += chunk));
  verdaccio.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((_, reject) => verdaccio.once('exit', (code) => reject(new Error(`Verdaccio exited (${code}):\n${output}`))));
  exited.catch(() => undefined);
  // Waits for the registry to answer, not for a fixed time: each try ends on a reply or a refusal.
  for (;;) {
    const ready = await Promise.race([
      fetch(`${url}-/ping`).then(
        (response) => response.ok,
        () => false,
      ),
      exited,
    ]);
    if (ready) return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What a registry page is made of; a package without these looks abandoned. */
function checkRegistryPage(name, version, document) {
  const latest = document.versions?.[document['dist-tags']?.latest];
  const problems = [];
  // Any other version came from somewhere else than this publish.
  const versions = Object.keys(document.versions ?? {});
  if (versions.length !== 1 || versions[0] !== version) problems.push(`versions ${versions.join(', ')} where only ${version} was published`);
  if (latest === undefined) problems.push('no latest version');
  else {
    if (!latest.description) problems.push('no description');
    if (!Array.isArray(latest.keywords) || latest.keywords.length === 0) problems.push('no keywords');
    if (!latest.repository?.url || !latest.repository?.directory) problems.push('no repository with a directory');
    if (!latest.license) problems.push('no license');
    if (!latest.engines?.node) problems.push('no engines.node');
  }
  if (typeof document.readme !== 'string' || !document.readme.startsWith(`# ${name}`)) problems.push('no README');
  if (problems.length > 0) throw new Error(`${name} on the registry: ${problems.join(', ')}`);
}

const ESM = esmProgram({ done: 'ESM from the registry: ok' });

const CJS = cjsProgram({
  requires: "const { hex } = require('@ws/testkit');",
  checks: 'assert.deepEqual([...hex`81 02`], [0x81, 0x02]);',
  done: 'CommonJS from the registry: ok',
});

try {
  for (const name of PACKAGES) {
    if (!existsSync(join(root, 'packages', name, 'dist'))) throw new Error(`packages/${name} is not built: run pnpm check:registry (it builds first)`);
  }
  const registry = await startVerdaccio(await configuredRegistry());
  console.log(`Verdaccio on ${registry}, other scopes than @ws through the configured registry`);
  // Anonymous publish is allowed by the config, but npm will not publish without a credential.
  const auth = `//${new URL(registry).host}/:_authToken=anonymous`;
  const npmrc = join(work, 'npmrc');
  writeFileSync(npmrc, `${auth}\n`);
  const npmEnv = { npm_config_userconfig: npmrc, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' };

  await run('pnpm', ['-r', '--filter', './packages/*', 'publish', '--registry', registry, '--no-git-checks'], { env: npmEnv });
  for (const name of PACKAGES) {
    const { version } = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
    // The package document, as a registry page or `npm view` reads it.
    checkRegistryPage(`@ws/${name}`, version, await (await fetch(`${registry}@ws%2f${name}`)).json());
  }
  console.log(`published ${PACKAGES.map((name) => `@ws/${name}`).join(', ')}; registry pages complete`);

  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // The lockfile keeps where each package came from (a user's config may leave that out), to check it below.
  const install = ['--registry', registry, '--no-audit', '--no-fund', '--loglevel=error', '--omit-lockfile-registry-resolved=false'];
  await run('npm', ['install', '@ws/server', '@ws/client', '@ws/redis', ...install], { cwd: project, env: npmEnv });
  await run('npm', ['install', '-D', '@ws/testkit', ...install], { cwd: project, env: npmEnv });
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  if (!manifest.dependencies?.['@ws/server'] || !manifest.dependencies?.['@ws/client'] || !manifest.dependencies?.['@ws/redis'] || !manifest.devDependencies?.['@ws/testkit']) {
    throw new Error(`npm install did not record the packages:\n${JSON.stringify(manifest, null, 2)}`);
  }
  // Every package, @redis/client too, came through the local registry (which fetched the others upstream).
  const installed = JSON.parse(readFileSync(join(project, 'node_modules', '.package-lock.json'), 'utf8')).packages;
  for (const [path, entry] of Object.entries(installed)) {
    if (path !== '' && !entry.link && !entry.resolved?.startsWith(registry)) throw new Error(`${path} was not installed from ${registry}: ${JSON.stringify(entry)}`);
  }
  if (installed['node_modules/@redis/client'] === undefined) throw new Error('@ws/redis was installed without @redis/client');

  await usePackages({ project, root, run, esm: ESM, cjs: CJS, label: 'from the registry' });

  const usage = await run(join(project, 'node_modules', '.bin', 'ws-testkit'), ['--help'], { cwd: project });
  if (!usage.startsWith('Usage: ws-testkit <command>')) throw new Error(`ws-testkit --help printed:\n${usage}`);
  console.log('ws-testkit bin from the registry: ok');
} catch (error) {
  console.error(`check-registry: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  cleanUp();
}
