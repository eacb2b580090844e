import { type Outcome, SECTION_TITLES } from '../catalogue/conformance-case.js';
import type { TranscriptEntry } from '../peer/transcript.js';
import type { CaseResult, ConformanceReport } from './conformance-report.js';
import { formatHexDump } from './hex-dump.js';

const OUTCOME_ORDER: readonly Outcome[] = ['pass', 'non-strict', 'informational', 'not-applicable', 'fail'];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Bytes of each transcript entry shown; the JSON report keeps more. */
const BYTES_PER_ENTRY = 256;
const INDENT = ' '.repeat(11);

/**
 * A transcript, one entry per heading line, the bytes below it as a hex dump with an ASCII column:
 * the handshake's text and the payloads of unmasked frames read without decoding by hand.
 */
function formatTranscriptDump(entries: readonly TranscriptEntry[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    const time = `+${entry.at.toFixed(1)}ms`.padStart(10);
    if (entry.kind === 'event') {
      lines.push(`${time}  event              ${entry.description}`);
      continue;
    }
    const shown = entry.bytes.subarray(0, BYTES_PER_ENTRY);
    const more = entry.length > shown.length ? ` (first ${shown.length} shown)` : '';
    lines.push(`${time}  ${entry.kind.padEnd(8)} ${`${entry.length} B`.padStart(9)}${more}`);
    for (const line of formatHexDump(shown)) lines.push(`${INDENT}${line}`);
  }
  return lines.join('\n');
}

/**
 * The report's one script: following a link to a case (`#case-7.1.1`, from the tables or from
 * another page) opens that case's details, which HTML alone cannot do.
 */
const OPEN_LINKED_CASE = `
function openLinkedCase() {
  var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target && target.tagName === 'DETAILS') { target.open = true; target.scrollIntoView(); }
}
addEventListener('hashchange', openLinkedCase);
openLinkedCase();
`;

const badge = (outcome: Outcome) => `<span class="badge ${outcome}">${outcome}</span>`;

function caseRow(result: CaseResult): string {
  return `<tr class="${result.outcome}"><td><a href="#case-${result.id}">${result.id}</a></td><td>${badge(result.outcome)}</td><td>${escapeHtml(
    result.description,
  )}</td><td class="number">${result.durationMs} ms</td></tr>`;
}

function caseDetails(result: CaseResult): string {
  const notes =
    result.notes.length === 0 ? '' : `<ul class="notes">${result.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`;
  const transcript =
    result.transcript.length === 0 ? '<p class="muted">No bytes were exchanged.</p>' : `<pre>${escapeHtml(formatTranscriptDump(result.transcript))}</pre>`;
  return `<details id="case-${result.id}" class="${result.outcome}"${result.outcome === 'fail' ? ' open' : ''}>
<summary><strong>${result.id}</strong> ${badge(result.outcome)} ${escapeHtml(result.description)}</summary>
<dl>
<dt>Verdict</dt><dd>${escapeHtml(result.reason)}</dd>
<dt>RFC</dt><dd><blockquote>${escapeHtml(result.rfc)}</blockquote></dd>
<dt>Duration</dt><dd>${result.durationMs} ms</dd>
</dl>
${notes}
<h4>Transcript</h4>
${transcript}
</details>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1d2330; }
h1 { font-size: 1.5rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d8dde6; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .25rem .5rem; border-bottom: 1px solid #eef0f4; text-align: left; vertical-align: top; }
td.number { text-align: right; white-space: nowrap; color: #5b6476; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem; font-weight: 600; color: #fff; }
.badge.pass { background: #1f8a4c; } .badge.non-strict { background: #b7791f; } .badge.informational { background: #3b6fd6; } .badge.fail { background: #c53030; } .badge.not-applicable { background: #718096; }
.summary span { margin-right: 1rem; } details { margin: .5rem 0; padding: .5rem .75rem; border: 1px solid #e2e6ee; border-radius: .4rem; }
details.fail { border-color: #f0b4b4; } summary { cursor: pointer; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; font-size: 12px; }
blockquote { margin: 0; padding-left: .75rem; border-left: 3px solid #d8dde6; color: #3d4658; }
dt { font-weight: 600; margin-top: .4rem; } dd { margin-left: 0; } .muted { color: #7a8394; }
`;

/**
 * A self-contained HTML report: summary, a table per section, and per case the verdict, the
 * RFC sentence and the byte transcript as a hex dump. No external resources; one inline script
 * of a few lines opens the case a link points to.
 */
export function renderHtmlReport(report: ConformanceReport): string {
  const sections = [...new Set(report.results.map((result) => result.section))].sort((left, right) => left - right);
  const summary = OUTCOME_ORDER.map((outcome) => `<span>${badge(outcome)} ${report.summary[outcome]}</span>`).join('');
  const tables = sections
    .map((section) => {
      const results = report.results.filter((result) => result.section === section);
      return `<h2>${section} ${escapeHtml(SECTION_TITLES[section] ?? '')}</h2>
<table><thead><tr><th>Case</th><th>Outcome</th><th>Description</th><th>Time</th></tr></thead><tbody>
${results.map(caseRow).join('\n')}
</tbody></table>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WebSocket conformance: ${escapeHtml(report.agent)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>WebSocket conformance: ${escapeHtml(report.agent)}</h1>
<p>${escapeHtml(report.target.kind)} under test: ${escapeHtml(report.target.description)} · started ${escapeHtml(report.startedAt)} · ${
    report.summary.total
  } cases in ${(report.durationMs / 1000).toFixed(1)} s</p>
<p class="summary">${summary}</p>
${tables}
<h2>Details</h2>
${report.results.map(caseDetails).join('\n')}
<script>${OPEN_LINKED_CASE}</script>
</body>
</html>
`;
}
