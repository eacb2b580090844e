import type { TestProject } from 'vitest/node';
import { type SystemToolName, requiredToolMessage, skippedToolLine, systemToolPath, systemToolsRequired } from './system-tools.js';

/** Lines already printed in this run: several projects may need the same tool. */
const printed = new Set<string>();

/**
 * A project's global setup (vitest.config.ts gives it the tools the project's tests drive in
 * `provide.systemTools`): under CI a missing tool fails the run before any test starts;
 * elsewhere it prints one line per missing tool, and the tests that need it skip
 * (`describe.skipIf(systemToolPath(name) === undefined)`).
 */
export function setup(project: TestProject): void {
  const needed: readonly SystemToolName[] = project.config.provide?.systemTools ?? [];
  const missing = needed.filter((name) => systemToolPath(name) === undefined);
  if (missing.length === 0) return;
  if (systemToolsRequired()) throw new Error(missing.map((name) => requiredToolMessage(name)).join('\n'));
  for (const name of missing) {
    const line = skippedToolLine(name);
    if (!printed.has(line)) console.log(line);
    printed.add(line);
  }
}
