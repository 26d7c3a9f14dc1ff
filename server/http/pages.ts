// Server-rendered page shells. The lab body HTML comes from the lab renderer (already safe);
// everything else that comes from a lab or a learner is escaped here.
import type { Lab, LabProblem } from '../labs/types.ts';
import type { LabBoot } from '../protocol/realtime.ts';
import { EARLY_CLICKS_SCRIPT } from './early-clicks.ts';

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON for a <script type="application/json"> block: nothing in it can close the tag. */
function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function layout(title: string, body: string, opts: { page: string; boot?: unknown; refreshSeconds?: number }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">${opts.refreshSeconds ? `\n<meta http-equiv="refresh" content="${Math.max(1, Math.floor(opts.refreshSeconds))}">` : ''}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body data-page="${esc(opts.page)}">
${opts.page === 'lab' ? `<script>${EARLY_CLICKS_SCRIPT}</script>` : ''}
${body}
${opts.boot !== undefined ? `<script type="application/json" id="boot">${jsonForScript(opts.boot)}</script>` : ''}
<script src="/assets/app.js" defer></script>
</body>
</html>`;
}

/** The top bar's session controls, the same on a lab page and a playground (web/src fills them in; the Share panel joins them). */
export const sessionBar = `<span class="session-bar">
    <span class="session-status" id="session-status" role="status">Connecting…</span>
    <span class="session-timer" id="session-timer" title="Time left in this session"></span>
    <button type="button" id="session-extend" class="btn-quiet" hidden>+30 min</button>
    <button type="button" id="session-end" class="btn-quiet" hidden>End session</button>
  </span>`;

export const brand = `<a class="brand" href="/"><span class="brand-mark">▣</span> <span class="brand-text">Docker Labs</span></a>`;

function problemsList(problems: LabProblem[]): string {
  return `<ul class="problems">${problems.map((p) => `<li><code>${esc(p.file)}:${p.line}</code> ${esc(p.message)}</li>`).join('')}</ul>`;
}

/**
 * Authoring nits the renderer worked around, for the author previewing the lab. Closed by default
 * and quiet, so a learner can ignore it: the lab runs as it is.
 */
function warningsBox(warnings: LabProblem[]): string {
  if (warnings.length === 0) return '';
  const items = warnings.map((p) => `<li><code>${esc(p.file)}:${p.line}</code> ${esc(p.message)}</li>`).join('');
  return `<details class="lab-warnings"><summary>${warnings.length} authoring warning${warnings.length === 1 ? '' : 's'}</summary>` +
    `<p>For the lab's author: this lab runs as it is; these were worked around. <code>npm run labs:check</code> lists them too.</p><ul>${items}</ul></details>`;
}

export interface CatalogueEntry {
  lab: Lab;
  passed: number;
  total: number;
}

export function cataloguePage(entries: CatalogueEntry[]): string {
  const cards = entries
    .map(({ lab, passed, total }) => {
      const broken = lab.problems.length > 0;
      const pct = total ? Math.round((100 * passed) / total) : 0;
      const meta = [lab.duration && esc(lab.duration), lab.difficulty && esc(lab.difficulty), lab.terms > 1 && `${lab.terms} terminals`]
        .filter(Boolean)
        .join(' · ');
      return `<li class="lab-card${broken ? ' broken' : ''}" data-lab-id="${esc(lab.id)}">
  <a class="lab-card-link" href="/labs/${encodeURIComponent(lab.id)}">
    <h2>${esc(lab.title)}</h2>
    <p class="lab-desc">${esc(lab.description)}</p>
    <p class="lab-meta">${meta}</p>
    ${broken ? `<p class="lab-broken">⚠ This lab has ${lab.problems.length} problem(s) and cannot run.</p>` : `<div class="progress" title="${passed} of ${total} checks passed"><div class="progress-bar" style="width:${pct}%"></div></div>
    <p class="progress-text" data-progress="${passed}/${total}">${total ? `${passed} of ${total} checks passed` : 'No checks in this lab'}</p>`}
  </a>
</li>`;
    })
    .join('\n');
  const body = `<header class="topbar">${brand}</header>
<main class="catalogue">
  <h1>Hands-on Docker labs</h1>
  <p class="lede">Each lab gives you your own Docker engine in the browser. Click a command to run it; every step is checked by looking at what you built.</p>
  <p class="play-link"><a class="btn" href="/play">Open the playground</a> <span>A free session without a lab: add nodes, build a swarm from a template, run anything.</span></p>
  ${entries.length ? `<ul class="lab-list">${cards}</ul>` : '<p class="empty">No labs found. Put Markdown labs in the labs folder and reload.</p>'}
</main>`;
  return layout('Docker Labs', body, { page: 'catalogue' });
}

export function labPage(lab: Lab, boot: LabBoot): string {
  if (lab.problems.length > 0) {
    const body = `<header class="topbar">${brand}<span class="lab-title">${esc(lab.title)}</span></header>
<main class="broken-lab">
  <h1>This lab has problems</h1>
  <p>The lab file could not be used as it is. Fix these and reload:</p>
  ${problemsList(lab.problems)}
  ${warningsBox(lab.warnings ?? [])}
  <p><a href="/">Back to all labs</a></p>
</main>`;
    return layout(`${lab.title} (broken)`, body, { page: 'broken-lab' });
  }
  const terms = Array.from({ length: lab.terms }, (_, i) => i + 1)
    .map((n) => `<section class="term-pane" data-terminal="${n}">
  <header class="term-head"><span class="term-name">node${n}</span><span class="term-state" data-term-state="${n}">starting…</span></header>
  <div class="term-body" id="term-${n}"></div>
</section>`)
    .join('\n');
  const body = `<header class="topbar">
  ${brand}
  <span class="lab-title">${esc(lab.title)}</span>
  ${sessionBar}
</header>
<div class="lab-layout" id="lab-layout" style="--split: 44%">
  <article class="lab-text" id="lab-text">
    <div class="lab-progress" id="lab-progress"></div>
    ${warningsBox(lab.warnings ?? [])}
    ${lab.html}
  </article>
  <div class="splitter" id="splitter" role="separator" aria-orientation="vertical" tabindex="0" title="Drag to resize"></div>
  <div class="terminals" id="terminals" data-terms="${lab.terms}">
    ${lab.terms ? terms : '<p class="no-terms">This lab has no terminal: read along and answer the questions.</p>'}
    <div class="overlay" id="overlay" hidden><div class="overlay-box" id="overlay-box"></div></div>
  </div>
</div>`;
  return layout(lab.title, body, { page: 'lab', boot });
}

export interface HostRow {
  learner: string;
  lab: string;
  phase: string;
  startedMinutesAgo: number;
  minutesLeft: number;
  currentStep: string;
  passed: number;
  total: number;
  lastPassMinutesAgo: number | null;
}

export function hostPage(stats: { sandboxes: number; max: number; queued: number; ready: number; starting: number }, rows: HostRow[]): string {
  const tr = rows
    .map((r) => {
      const stuck = r.phase === 'ready' && (r.lastPassMinutesAgo ?? r.startedMinutesAgo) >= 10;
      return `<tr class="${stuck ? 'stuck' : ''}"><td><code>${esc(r.learner)}</code></td><td>${esc(r.lab)}</td><td>${esc(r.phase)}</td><td>${esc(r.currentStep)}</td><td>${r.passed}/${r.total}</td><td>${r.lastPassMinutesAgo === null ? '—' : `${r.lastPassMinutesAgo} min ago`}</td><td>${r.startedMinutesAgo} min</td><td>${r.minutesLeft} min</td></tr>`;
    })
    .join('\n');
  const body = `<header class="topbar">${brand}<span class="lab-title">Workshop host</span></header>
<main class="host">
  <section class="host-stats">
    <div><strong>${stats.sandboxes}</strong> / ${stats.max} sandboxes</div>
    <div><strong>${stats.ready}</strong> learners ready</div>
    <div><strong>${stats.starting}</strong> starting</div>
    <div><strong>${stats.queued}</strong> waiting in queue</div>
  </section>
  <p class="lede">Rows in amber: no step passed for 10 minutes — someone who may be stuck. The page refreshes every 10 s.</p>
  <table class="host-table"><thead><tr><th>Learner</th><th>Lab</th><th>State</th><th>Current step</th><th>Checks</th><th>Last pass</th><th>Started</th><th>Left</th></tr></thead>
  <tbody>${tr || '<tr><td colspan="8">No live sessions.</td></tr>'}</tbody></table>
</main>`;
  return layout('Workshop host', body, { page: 'host' });
}

/** A page with one sentence; `refreshSeconds` makes the browser load it again (a port still starting). */
export function messagePage(title: string, message: string, status: number, opts: { refreshSeconds?: number } = {}): string {
  return layout(title, `<header class="topbar">${brand}</header><main class="message-page"><h1>${esc(title)}</h1><p>${esc(message)}</p><p><a href="/">Back to all labs</a></p><p class="status-code">${status}</p></main>`, { page: 'message', refreshSeconds: opts.refreshSeconds });
}
