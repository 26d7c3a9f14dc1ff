// Server-rendered pages of workshops: the host's home (events, create form), the instructor view
// of one event (filled in live by web/src/host-page.ts), and the learner's join page.
import { brand, esc, layout, type HostRow } from '../http/pages.ts';
import type { WorkshopEvent } from './event-rules.ts';
import type { HostEventBoot } from '../protocol/workshop.ts';

export type { HostEventBoot } from '../protocol/workshop.ts';

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

export function hostHomePage(args: {
  events: (WorkshopEvent & { joined: number; joinUrl: string })[];
  labs: { id: string; title: string }[];
  stats: { sandboxes: number; max: number; queued: number; ready: number; starting: number };
  pool: { idleSandboxes: number; targetSandboxes: number };
  sessions: HostRow[];
  error?: string;
}): string {
  const sessionRows = args.sessions
    .map((r) => {
      const stuck = r.phase === 'ready' && (r.lastPassMinutesAgo ?? r.startedMinutesAgo) >= 10;
      return `<tr class="${stuck ? 'stuck' : ''}"><td>${esc(r.learner)}</td><td>${esc(r.lab)}</td><td>${esc(r.phase)}</td><td>${esc(r.currentStep)}</td><td>${r.passed}/${r.total}</td><td>${r.lastPassMinutesAgo === null ? '—' : `${r.lastPassMinutesAgo} min ago`}</td><td>${r.startedMinutesAgo} min</td><td>${r.minutesLeft} min</td></tr>`;
    })
    .join('\n');
  const rows = args.events
    .map(
      (e) => `<tr data-event-code="${esc(e.code)}"><td><a href="/host/events/${esc(e.id)}">${esc(e.name)}</a></td><td><code class="event-code">${esc(e.code)}</code></td>
<td><a class="join-link" href="${esc(e.joinUrl)}">${esc(e.joinUrl)}</a></td><td>${esc(when(e.startsAt))} → ${esc(when(e.endsAt))}</td>
<td>${e.joined} / ${e.expected}${e.capacity ? ` (max ${e.capacity})` : ''}</td><td>${e.labs.map((l) => esc(l)).join(', ')}</td></tr>`,
    )
    .join('\n');
  const labOptions = args.labs.map((l, i) => `<label class="lab-pick"><input type="checkbox" name="labs" value="${esc(l.id)}"${i === 0 ? ' checked' : ''}> ${esc(l.title)}</label>`).join('\n');
  const body = `<header class="topbar">${brand}<span class="lab-title">Workshop host</span><a class="btn-quiet" href="/metrics">metrics</a></header>
<main class="host">
  <section class="host-stats">
    <div><strong>${args.stats.sandboxes}</strong> / ${args.stats.max} sandboxes</div>
    <div><strong>${args.stats.ready}</strong> learners ready</div>
    <div><strong>${args.stats.starting}</strong> starting</div>
    <div><strong>${args.stats.queued}</strong> waiting in queue</div>
    <div><strong data-pool-idle>${args.pool.idleSandboxes}</strong> / ${args.pool.targetSandboxes} warm</div>
  </section>
  <h2>Events</h2>
  <table class="host-table events-table"><thead><tr><th>Event</th><th>Code</th><th>Join link</th><th>When</th><th>Joined</th><th>Labs</th></tr></thead>
  <tbody>${rows || '<tr><td colspan="6">No events yet.</td></tr>'}</tbody></table>
  <h2>Live sessions</h2>
  <p class="lede">Rows in amber: no step passed for 10 minutes. An event's own page updates by itself.</p>
  <table class="host-table sessions-table"><thead><tr><th>Learner</th><th>Lab</th><th>State</th><th>Current step</th><th>Checks</th><th>Last pass</th><th>Started</th><th>Left</th></tr></thead>
  <tbody>${sessionRows || '<tr><td colspan="8">No live sessions.</td></tr>'}</tbody></table>
  <h2>New event</h2>
  ${args.error ? `<p class="form-error" role="alert">${esc(args.error)}</p>` : ''}
  <form class="event-form" method="post" action="/host/events">
    <label>Name <input name="name" required maxlength="120" placeholder="Docker at DevConf"></label>
    <fieldset><legend>Labs</legend>${labOptions}</fieldset>
    <label>Starts <input name="start" required placeholder="2026-05-04T09:00Z or +30m" value="+0m"></label>
    <label>Ends <input name="end" required placeholder="2026-05-04T12:00Z or +3h" value="+3h"></label>
    <label>Expected head count <input name="expected" type="number" min="1" max="10000" required value="30"></label>
    <label>Capacity (optional) <input name="capacity" type="number" min="1" max="10000"></label>
    <button class="btn" type="submit">Create the event</button>
  </form>
  <p class="lede">Times are UTC. The warm pool fills for an event's expected head count 15 minutes before it starts.</p>
</main>`;
  return layout('Workshop host', body, { page: 'host' });
}

export function hostEventPage(event: WorkshopEvent, boot: HostEventBoot): string {
  const body = `<header class="topbar">${brand}<span class="lab-title">${esc(event.name)}</span><a class="btn-quiet" href="/host">all events</a></header>
<main class="host host-event">
  <section class="join-box">
    <div>Join at <a class="join-link" id="join-link" href="${esc(boot.joinUrl)}">${esc(boot.joinUrl)}</a></div>
    <div>Code <code class="event-code big" id="event-code">${esc(event.code)}</code></div>
    <div>${esc(when(event.startsAt))} → ${esc(when(event.endsAt))} · expected ${event.expected}${event.capacity ? ` · max ${event.capacity}` : ''}</div>
    <a class="btn-quiet" id="csv-link" href="/host/events/${esc(event.id)}/progress.csv" download>Export progress (CSV)</a>
  </section>
  <form class="broadcast" id="broadcast-form">
    <input id="broadcast-text" maxlength="500" placeholder="A message for every learner of this event" required>
    <button class="btn" type="submit">Send to everyone</button>
  </form>
  <div class="host-split">
    <section id="grid" class="grid" aria-live="polite"><p>Connecting…</p></section>
    <section id="watch" class="watch" hidden>
      <header class="term-head"><span class="term-name" id="watch-title"></span><button type="button" class="btn-quiet" id="watch-close">Stop watching</button></header>
      <div class="term-body" id="watch-term"></div>
    </section>
  </div>
</main>`;
  return layout(`${event.name} — host`, body, { page: 'host-event', boot });
}

export function joinPage(event: WorkshopEvent, opts: { name?: string; error?: string; labTitle?: string }): string {
  const body = `<header class="topbar">${brand}<span class="lab-title">${esc(event.name)}</span></header>
<main class="message-page join-page">
  <h1>${esc(event.name)}</h1>
  <p>You are joining a hands-on workshop${opts.labTitle ? `: first lab <strong>${esc(opts.labTitle)}</strong>` : ''}. No account needed — type the name the host will see next to your progress.</p>
  ${opts.error ? `<p class="form-error" role="alert">${esc(opts.error)}</p>` : ''}
  <form method="post" action="/e/${esc(event.code)}" class="join-form">
    <label>Your name <input name="name" id="display-name" required maxlength="40" value="${esc(opts.name ?? '')}" autofocus></label>
    <button class="btn" type="submit">Join</button>
  </form>
</main>`;
  return layout(`Join ${event.name}`, body, { page: 'join' });
}
