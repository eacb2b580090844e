/** What every command exits with; `--help` prints it and the README repeats it. */
export const EXIT_STATUS = `Exit status:
  0  no case failed (non-strict, informational and not-applicable outcomes do not fail)
  1  at least one case failed
  2  usage error: unknown command or option, missing or bad argument
  3  could not run: the port is in use, the report folder cannot be written, ...
`;

const CASE_OPTIONS = `  --cases <patterns>      comma-separated: 1.*,5.*  6.4.1  7  !6.4.*   (default: all)
  --slow                  include section 9 (limits and performance)
  --deflate               include sections 12 and 13 (permessage-deflate); a target
                          that declines compression gets informational outcomes`;

const RUN_OPTIONS = `${CASE_OPTIONS}
  --agent <name>          name of the implementation in the reports
  --out <dir>             where index.json and index.html go (default: a new temporary
                          folder, printed at the end; --report-dir is the same option)
  --no-report             write no report files
  --timeout <ms>          wait for a reply (default 2000)
  --fail-fast-wait <ms>   wait before sending the rest in fail-fast cases (default 1000)
  --verbose               one line per case
  -h, --help              this text`;

/** `ws-testkit --help`. */
export const USAGE = `Usage: ws-testkit <command> [options]

Commands:
  server <ws://host:port/path>   test a WebSocket echo server
  client [--host h] [--port p]   serve the Autobahn client protocol and test the client that
                                 connects (/getCaseCount, /runCase, /updateReports)
  list                           list the cases
  help [command]                 this text, or a command's

Examples:
  ws-testkit server ws://127.0.0.1:9001 --cases '1.*,5.*'   test a server on sections 1 and 5
  ws-testkit server wss://localhost:8443 --http2            test it over HTTP/2 (RFC 8441)
  ws-testkit client --port 9001                             test the client that connects
  ws-testkit client --port 9001 --http2                     ... over HTTP/2 (h2c)
  ws-testkit list --cases 6.4                               what the cases of 6.4 check

ws-testkit <command> --help tells a command's options. Reports (a terminal summary, then
index.json and a self-contained index.html) go to a new temporary folder unless --out says where.

${EXIT_STATUS}`;

/** `ws-testkit <command> --help`, by command. */
export const COMMAND_USAGE: Readonly<Record<'server' | 'client' | 'list', string>> = {
  server: `Usage: ws-testkit server <ws://host:port/path> [options]

Tests a WebSocket server that echoes every message (text as text, binary as binary), one case
at a time, and writes a report.

Options:
  --http2                 open each WebSocket with an extended CONNECT over HTTP/2 (RFC 8441):
                          h2c for ws:// and http://, h2 (TLS, ALPN) for wss:// and https://;
                          cases of the HTTP/1.1 upgrade itself are not applicable
${RUN_OPTIONS}

${EXIT_STATUS}`,
  client: `Usage: ws-testkit client [--host 127.0.0.1] [--port 9001] [options]

Serves the Autobahn fuzzing server's client protocol, so that any client with an Autobahn driver
can be tested unchanged: /getCaseCount, /runCase?case=N&agent=A, /getCaseInfo?case=N,
/getCaseStatus?case=N&agent=A, /updateReports?agent=A (after which the command writes the
reports and exits). The client under test must echo every message until the connection closes.

Options:
  --host <address>        the address to listen on (default 127.0.0.1)
  --port <port>           the port (default 9001; 0 picks a free one, printed on start)
  --http2                 serve HTTP/2 with SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): every
                          path is an extended CONNECT on its own stream; h2c, or h2 over TLS with
                          --cert and --key; cases of the HTTP/1.1 upgrade itself are not applicable
  --cert <file>           with --http2: the server certificate (PEM), for h2 over TLS
  --key <file>            with --http2: its private key (PEM)
${RUN_OPTIONS}

${EXIT_STATUS}`,
  list: `Usage: ws-testkit list [options]

Lists the selected cases: id, what each checks, and the role it applies to.

Options:
${CASE_OPTIONS}
  -h, --help              this text

Exit status: 0, or 2 on a usage error.
`,
};
