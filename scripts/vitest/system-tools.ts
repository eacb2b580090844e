import { existsSync } from 'node:fs';

/**
 * Programs from the operating system that some tests drive, with where Debian puts them. On a
 * developer's machine a missing one skips those tests with one line saying how to get it; under
 * CI (`CI=true`) it fails the run instead, since `.ci/run` installs every one of them and a skip
 * there would hide a broken install.
 */
export const SYSTEM_TOOLS = {
  chromium: {
    title: 'Chromium',
    tests: 'the browser tests',
    defaultPath: '/usr/bin/chromium',
    variable: 'CHROMIUM_PATH',
    debianPackage: 'chromium',
  },
  'redis-server': {
    title: 'Redis',
    tests: 'the Redis tests',
    defaultPath: '/usr/bin/redis-server',
    variable: 'REDIS_SERVER_PATH',
    debianPackage: 'redis-server',
  },
  'redis-cli': {
    title: 'redis-cli',
    tests: 'the Redis Cluster tests',
    defaultPath: '/usr/bin/redis-cli',
    variable: 'REDIS_CLI_PATH',
    debianPackage: 'redis-tools',
  },
} as const;

export type SystemToolName = keyof typeof SYSTEM_TOOLS;

type Environment = Readonly<Record<string, string | undefined>>;

/** Where the tool is looked for: its variable when set, else Debian's path. */
export function systemToolLocation(name: SystemToolName, env: Environment = process.env): string {
  const tool = SYSTEM_TOOLS[name];
  return env[tool.variable] || tool.defaultPath;
}

/** The tool's path when it is there; undefined when the tests that need it should skip. */
export function systemToolPath(name: SystemToolName, env: Environment = process.env): string | undefined {
  const location = systemToolLocation(name, env);
  return existsSync(location) ? location : undefined;
}

/** Under CI every system tool is required: `CI` set to anything but `false` or `0`. */
export function systemToolsRequired(env: Environment = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** The one line a local run prints for a missing tool. */
export function skippedToolLine(name: SystemToolName, env: Environment = process.env): string {
  const tool = SYSTEM_TOOLS[name];
  return `Skipping ${tool.tests}: no ${tool.title} at ${systemToolLocation(name, env)} (apt-get install ${tool.debianPackage}, or set ${tool.variable}).`;
}

/** Why a CI run fails for a missing tool. */
export function requiredToolMessage(name: SystemToolName, env: Environment = process.env): string {
  const tool = SYSTEM_TOOLS[name];
  return `CI=true and ${tool.tests} need ${tool.title}, which is not at ${systemToolLocation(name, env)}: install the Debian package ${tool.debianPackage} (.ci/run does) or set ${tool.variable}.`;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The system tools a project's tests drive, for its global setup (vitest.config.ts). */
    systemTools: readonly SystemToolName[];
  }
}
