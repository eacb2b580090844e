import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What the demo's commands exit with; each command's `--help` prints this. */
export const EXIT_STATUS_TEXT = `Exit status:
  0  done (or stopped with Ctrl-C / SIGTERM after closing every connection with 1001)
  1  failed: the port is in use, the server could not be reached or did not answer as expected
  2  usage error: an unknown option or a missing argument
`;

/** A failure the command explains in one line, without a stack trace. */
export class CommandError extends Error {}

/** A command line the command cannot make sense of: exit status 2. */
export class UsageError extends CommandError {}

/** What a command's options parsed to, by option name. */
export type CommandValues = Readonly<Record<string, string | boolean | undefined>>;

export interface CommandSpec {
  /** The command's name in messages, e.g. `demo echo`. */
  readonly name: string;
  /** The text `--help` prints. */
  readonly usage: string;
  /** `--help` is added to these. */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly allowPositionals?: boolean;
  /** The command itself. Resolves once it has started (a server) or finished (a client). */
  readonly run: (values: CommandValues, positionals: readonly string[]) => Promise<void>;
}

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * One line for an error a person can act on: a port in use, a refused connection, a
 * {@link CommandError}; anything else is a bug and keeps its stack.
 */
export function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    const { address, port } = error as { address?: string; port?: number };
    const where = address === undefined || port === undefined ? 'the port' : `${address}:${port}`;
    return `${where} is already in use: stop what listens there, or set PORT to use another port`;
  }
  if (error instanceof CommandError) return error.message;
  if (error instanceof Error && (code !== undefined || error.name === 'HandshakeError')) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * Runs one of the demo's commands the way a person expects: `--help` (also after the `--` that
 * `pnpm <script> -- --help` passes on) prints the usage and exits 0, a usage error prints one
 * line and exits 2, a failure prints one line and exits 1. Returns the exit status, or
 * undefined while the command keeps running (a server that stops on a signal).
 */
export async function runCommand(
  spec: CommandSpec,
  argv: readonly string[] = process.argv.slice(2),
  io: CommandIo = processIo,
): Promise<number | undefined> {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let parsed: { values: CommandValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: spec.allowPositionals ?? false,
      strict: true,
    }) as { values: CommandValues; positionals: string[] };
  } catch (error) {
    // Node's message for an unknown option is a paragraph; the option's name is what matters.
    const unknown = (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec((error as Error).message) : null;
    io.stderr(`${spec.name}: ${unknown === null ? (error as Error).message : `unknown option ${unknown[1]}`} (see --help)\n`);
    return 2;
  }
  if (parsed.values.help === true) {
    io.stdout(spec.usage);
    return 0;
  }
  try {
    await spec.run(parsed.values, parsed.positionals);
    return undefined;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${spec.name}: ${error.message} (see --help)\n`);
      return 2;
    }
    io.stderr(`${spec.name}: ${describeFailure(error)}\n`);
    return 1;
  }
}
