// The instructor view of one event: a live grid of learners × steps (pushed by the server), a
// read-only view of a learner's terminal, reset, broadcast. Everything over the /workshop namespace.
import { showToast as toastAt } from './toast.ts';
import { io, type Socket } from 'socket.io-client';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { GridLab, HostEventBoot, WorkshopClientToServer, WorkshopServerToClient } from '../../server/protocol/workshop.ts';
import { AckCounter } from '../../server/protocol/ack-counter.ts';

const ACK_EVERY = 5_000;

const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector<T>(sel);

function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const SYMBOL: Record<string, string> = { pass: '✓', fail: '✗', pending: '…', none: '·' };

export function startHostEventPage(): void {
  const boot = JSON.parse($('#boot')!.textContent!) as HostEventBoot;
  const socket: Socket<WorkshopServerToClient, WorkshopClientToServer> = io('/workshop', { transports: ['websocket', 'polling'], auth: { role: 'host' } });
  const gridEl = $('#grid')!;
  const watchEl = $('#watch')!;
  let xterm: Terminal | undefined;
  let fit: FitAddon | undefined;
  const acks = new AckCounter(ACK_EVERY);
  let watching: { learnerId: string; labId: string } | undefined;

  const renderGrid = (labs: GridLab[]) => {
    gridEl.innerHTML = labs
      .map((lab) => {
        const head = lab.steps.map((s, i) => `<th title="${esc(s.title)}">${i + 1}. ${esc(s.title)}</th>`).join('');
        const rows = lab.rows
          .map((r) => {
            const cells = r.cells
              .map((c) => `<td class="cell cell-${c.status}" data-step-id="${esc(c.stepId)}" data-status="${c.status}" title="${esc(c.message ?? c.status)}">${SYMBOL[c.status]}${c.status === 'fail' && c.message ? `<span class="fail-reason">${esc(c.message)}</span>` : ''}</td>`)
              .join('');
            const stuck = r.stuckMinutes === null ? '' : `${r.stuckMinutes} min`;
            const live = r.phase === 'ready';
            return `<tr data-learner-id="${esc(r.learnerId)}" data-lab-id="${esc(lab.labId)}" data-phase="${esc(r.phase)}" class="${r.stuckMinutes !== null && r.stuckMinutes >= 10 ? 'stuck' : ''}">
<th class="learner-name"><button type="button" class="link-btn" data-watch ${live ? '' : 'disabled'} title="Watch this learner's terminal">${esc(r.name)}</button></th>
<td class="phase">${esc(r.phase)}</td><td class="stuck-for">${stuck}</td>${cells}
<td><button type="button" class="btn-quiet" data-reset ${live ? '' : 'disabled'}>Reset</button></td></tr>`;
          })
          .join('\n');
        return `<h2>${esc(lab.title)}</h2><table class="host-table event-grid" data-lab-id="${esc(lab.labId)}"><thead><tr><th>Learner</th><th>State</th><th>Stuck</th>${head}<th></th></tr></thead>
<tbody>${rows || `<tr><td colspan="${lab.steps.length + 4}">Nobody has joined yet: share ${esc(boot.joinUrl)} (code ${esc(boot.code)}).</td></tr>`}</tbody></table>`;
      })
      .join('\n');
  };

  gridEl.addEventListener('click', (e) => {
    const btn = (e.target as HTMLElement).closest<HTMLButtonElement>('button');
    const tr = btn?.closest<HTMLTableRowElement>('tr[data-learner-id]');
    if (!btn || !tr) return;
    const learnerId = tr.dataset.learnerId!;
    const labId = tr.dataset.labId!;
    if (btn.hasAttribute('data-watch')) watch(learnerId, labId);
    if (btn.hasAttribute('data-reset')) {
      if (!confirm('Give this learner a fresh sandbox? Everything in their current one is removed; their progress is kept.')) return;
      btn.disabled = true;
      btn.textContent = 'Resetting…';
      socket.emit('host:reset', { learnerId, labId }, (res) => {
        btn.textContent = 'Reset';
        btn.disabled = false;
        toast(res.ok ? 'Fresh sandbox ready.' : res.error.message);
      });
    }
  });

  const watch = (learnerId: string, labId: string) => {
    watching = { learnerId, labId };
    watchEl.hidden = false;
    if (!xterm) {
      // Read-only: no onData handler, and stdin disabled so nothing is typed into the learner's shell.
      xterm = new Terminal({ disableStdin: true, cursorBlink: false, fontSize: 13, scrollback: 2000, fontFamily: '"DejaVu Sans Mono", Menlo, Consolas, monospace', theme: { background: '#0f1720', foreground: '#e6edf3' } });
      fit = new FitAddon();
      xterm.loadAddon(fit);
      xterm.open($('#watch-term')!);
    }
    xterm.reset();
    fit?.fit();
    socket.emit('host:watch', { learnerId, labId, node: 1 }, (res) => {
      if (!res.ok) {
        toast(res.error.message);
        return;
      }
      $('#watch-title')!.textContent = `Watching ${res.value.title} (read-only)`;
      watchEl.dataset.learnerId = learnerId;
    });
  };
  const written = (n: number) => {
    const due = acks.rendered(n);
    if (due) socket.emit('host:ack', { chars: due });
  };
  socket.on('watch:replay', ({ data }) => {
    xterm?.reset();
    xterm?.write(data, () => written(data.length));
  });
  socket.on('watch:data', ({ data }) => xterm?.write(data, () => written(data.length)));
  socket.on('watch:state', ({ state }) => watchEl.setAttribute('data-state', state));
  $('#watch-close')!.addEventListener('click', () => {
    socket.emit('host:unwatch');
    watching = undefined;
    watchEl.hidden = true;
  });

  $('#broadcast-form')!.addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>('#broadcast-text')!;
    socket.emit('host:broadcast', { eventId: boot.eventId, text: input.value }, (res) => {
      if (res.ok) {
        toast(`Sent to ${res.value.sent} page(s).`);
        input.value = '';
      } else toast(res.error.message);
    });
  });

  socket.on('workshop:grid', renderGrid);
  socket.on('connect', () => {
    socket.emit('host:event', { eventId: boot.eventId }, (res) => {
      if (res.ok) renderGrid(res.value);
      else gridEl.textContent = res.error.message;
    });
    if (watching) watch(watching.learnerId, watching.labId);
  });
  socket.on('connect_error', (err) => {
    gridEl.textContent = err.message;
  });
}

const toast = (message: string) => toastAt(message, 'info');
