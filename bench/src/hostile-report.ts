/**
 * The hostile-load benchmark's report: one Markdown table row and one details line per attack on
 * one server, in words a reader can check (what the attacker saw and when, what the server
 * failed the connection with, bytes read, the probe's round trips). See README.md ("Hostile load").
 */
import type { AttackReport, Outcome } from './hostile-attacker.js';
import type { ProbeReport } from './hostile-probe.js';
import type { ClosedConnection, ServerReport } from './hostile-server.js';

export type Attack = 'pipelined' | 'ping-flood' | 'fragment-flood' | 'slowloris' | 'deflate-bomb';

/** What one attack on one server gave. */
export interface Row {
  readonly scenario: string;
  readonly server: string;
  readonly stillUp: string;
  readonly probe: ProbeReport | undefined;
  readonly rssGrowth: number | undefined;
  readonly attack: AttackReport | undefined;
  readonly serverReport: ServerReport | undefined;
  readonly serverExit: number | null;
}

const MiB = 1024 * 1024;

const ms = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ms`;
const mib = (bytes: number): string =>
  Math.abs(bytes) < MiB ? `${Math.round(bytes / 1024).toLocaleString('en-US')} KiB` : `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;

function timeRange(times: readonly number[]): string {
  if (times.length === 0) return '';
  const sorted = [...times].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted.at(-1)!;
  return last - first < 1 ? ` at ${ms(first)}` : ` at ${ms(first)}–${ms(last)}`;
}

/** "100× close 1009 at 120–1,800 ms; …", from the attacker's side. */
function describeOutcomes(outcomes: readonly Outcome[], relativeTo: string): string {
  const groups = new Map<string, number[]>();
  const never = new Map<string, number>();
  for (const { outcome, atMs } of outcomes) {
    if (atMs === null) never.set(outcome, (never.get(outcome) ?? 0) + 1);
    else groups.set(outcome, [...(groups.get(outcome) ?? []), atMs]);
  }
  const prefix = (count: number): string => (outcomes.length === 1 ? '' : `${count.toLocaleString('en-US')}× `);
  const parts = [...groups].map(([outcome, times]) => `${prefix(times.length)}${outcome}${timeRange(times)}`);
  parts.push(...[...never].map(([outcome, count]) => `${prefix(count)}${outcome}`));
  return `${parts.join('; ')}${groups.size > 0 ? ` (after ${relativeTo})` : ''}`;
}

/** The server's side: what failed the attacking connections, the code sent, when, and bytes read. */
function describeServerSide(closed: readonly ClosedConnection[], startedAt: number, attack: Attack): string {
  const attackers = closed.filter((entry) => entry.path !== '/probe' && entry.path !== '/check');
  if (attackers.length === 0) return attack === 'slowloris' ? '(never upgraded)' : 'no attacking connection closed';
  const groups = new Map<string, ClosedConnection[]>();
  for (const entry of attackers) {
    const key = entry.error === undefined ? `no error, close event ${entry.code}` : `${entry.error}${entry.closeCodeSent === undefined ? '' : `, sent ${entry.closeCodeSent}`}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  const prefix = (count: number): string => (attackers.length === 1 ? '' : `${count}× `);
  return [...groups]
    .map(([key, entries]) => {
      const failedAt = entries.flatMap((entry) => (entry.failedAt === undefined ? [] : [entry.failedAt - startedAt]));
      const read = entries.map((entry) => entry.bytesRead);
      const readText = entries.length === 1 ? `read ${mib(read[0]!)}` : `read ≤ ${mib(Math.max(...read))} each`;
      return `${prefix(entries.length)}${key}${failedAt.length > 0 ? `${timeRange(failedAt)}` : ''}; ${readText}`;
    })
    .join('; ');
}

function probeCell(probe: ProbeReport | undefined): string {
  if (probe === undefined) return 'no report';
  const worst = Math.max(Number.isNaN(probe.worstMs) ? 0 : probe.worstMs, probe.oldestUnansweredMs);
  const parts = [`${ms(worst)} (p50 ${probe.p50Ms.toFixed(1)} ms, ${probe.answered}/${probe.sent} answered)`];
  if (probe.unanswered > 0) parts.push(`${probe.unanswered} unanswered`);
  if (probe.closed !== undefined) parts.push(`probe dropped: ${probe.closed}`);
  return parts.join('; ');
}

export function tableRow(row: Row, attack: Attack): string {
  const report = row.attack;
  const attacker = report === undefined ? 'no report (attacker killed)' : describeOutcomes(report.outcomes, attack === 'slowloris' ? 'its connect' : 'attack start');
  const serverSide = report === undefined || row.serverReport === undefined ? 'no report' : describeServerSide(row.serverReport.closed, report.startedAt, attack);
  const stall = row.serverReport === undefined ? 'no report within 15 s' : ms(row.serverReport.loopDelayMaxMs);
  const rss = row.rssGrowth === undefined ? 'n/a' : mib(row.rssGrowth);
  return `| ${row.server} | ${row.stillUp} | ${probeCell(row.probe)} | ${rss} | ${attacker} | ${serverSide} | ${stall} |`;
}

export function detailsLine(row: Row): string {
  if (row.attack === undefined) return `- ${row.server}: the attacker gave no report.`;
  const details = Object.entries(row.attack.details)
    .map(([key, value]) => `${key} ${typeof value === 'number' ? value.toLocaleString('en-US') : value}`)
    .join(', ');
  const peak = row.serverReport === undefined ? '' : `, server's own peak RSS (maxRSS) ${mib(row.serverReport.maxRss)}`;
  return `- ${row.server}: attack ran ${ms(row.attack.durationMs)}; ${details}${peak}.`;
}
