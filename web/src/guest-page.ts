// A guest's page (a share link): the owner's terminals, live. A read-write guest types into them; a
// read-only guest's keystrokes are refused by the server, which says so. Resizing stays the owner's.
import { io, type Socket } from 'socket.io-client';
import type { AccessClientToServer, AccessServerToClient, GuestBoot } from '../../server/protocol/access.ts';
import type { TermState } from '../../server/protocol/realtime.ts';
import { TerminalPane } from './terminal-pane.ts';
import { showToast } from './toast.ts';

// Must match TUNING on the server (as in lab-page.ts).
const ACK_EVERY = 5_000;
const MAX_INPUT_CHUNK = 64 * 1024;

export function startGuestPage(): void {
  const boot = JSON.parse(document.getElementById('boot')!.textContent!) as GuestBoot;
  const socket: Socket<AccessServerToClient, AccessClientToServer> = io('/access', { transports: ['websocket', 'polling'], auth: { share: boot.token } });
  const host = document.getElementById('terminals')!;
  const status = document.getElementById('guest-status')!;
  const overlay = document.getElementById('overlay')!;
  const overlayBox = document.getElementById('overlay-box')!;
  const panes = new Map<number, TerminalPane>();
  let over = false;

  const stop = (title: string, message: string) => {
    over = true;
    socket.disconnect();
    status.textContent = 'Disconnected';
    status.dataset.phase = 'ended';
    document.body.dataset.guest = 'ended';
    overlayBox.innerHTML = '';
    const h = document.createElement('h2');
    h.textContent = title;
    const p = document.createElement('p');
    p.dataset.guestEnded = '';
    p.textContent = message;
    overlayBox.append(h, p);
    overlay.hidden = false;
  };

  const showNodes = (nodes: number[]) => {
    for (const [n, pane] of panes) {
      if (nodes.includes(n)) continue;
      pane.xterm.dispose();
      host.querySelector(`[data-terminal="${n}"]`)?.remove();
      panes.delete(n);
    }
    for (const n of nodes) {
      if (panes.has(n)) continue;
      const section = document.createElement('section');
      section.className = 'term-pane';
      section.dataset.terminal = String(n);
      section.innerHTML = `<header class="term-head"><span class="term-name">node${n}</span><span class="term-state" data-term-state="${n}">starting…</span></header><div class="term-body"></div>`;
      const after = [...host.querySelectorAll<HTMLElement>('[data-terminal]')].find((el) => Number(el.dataset.terminal) > n);
      host.insertBefore(section, after ?? null);
      panes.set(n, new TerminalPane({
        term: n,
        el: section.querySelector<HTMLElement>('.term-body')!,
        ackEvery: ACK_EVERY,
        maxInputChunk: MAX_INPUT_CHUNK,
        maxPasteBytes: boot.maxPasteBytes,
        send: (data) => socket.emit('term:input', { term: n, data }),
        resize: () => {},
        ack: (chars) => socket.emit('term:ack', { term: n, chars }),
        notice: (m) => showToast(m, 'warn'),
      }));
    }
    host.dataset.terms = String(nodes.length);
  };
  showNodes(boot.nodes);

  const setState = (term: number, state: TermState) => {
    const el = document.querySelector<HTMLElement>(`[data-term-state="${term}"]`);
    if (!el) return;
    el.textContent = { starting: 'starting…', ready: 'connected', reconnecting: 'reconnecting…', exited: 'exited', failed: 'disconnected' }[state];
    el.dataset.state = state;
  };

  socket.on('connect', () => {
    socket.emit('guest:join', {}, (res) => {
      if (!res.ok) return stop('This session is over', res.error.message);
      status.textContent = `Guest, ${res.value.mode}`;
      status.dataset.phase = 'ready';
      document.body.dataset.guest = res.value.mode;
      showNodes(res.value.nodes);
      const name = (document.getElementById('guest-name') as HTMLInputElement | null)?.value.trim();
      if (name) socket.emit('guest:name', { name });
    });
  });
  socket.on('connect_error', (err) => {
    // Refused at the door (a revoked link, an ended session): no point in retrying.
    if (!over && socket.active === false) stop('This share link does not work', err.message);
    else status.textContent = 'Cannot reach the server; retrying…';
  });
  socket.on('disconnect', () => {
    if (over) return;
    status.textContent = 'Reconnecting…';
    for (const n of panes.keys()) setState(n, 'reconnecting');
  });
  socket.on('guest:ended', (e) => stop('You are no longer in this session', e.message));
  socket.on('guest:nodes', ({ nodes }) => showNodes(nodes));
  socket.on('term:replay', ({ term, data }) => panes.get(term)?.replay(data));
  socket.on('term:data', ({ term, data }) => panes.get(term)?.write(data));
  socket.on('term:state', ({ term, state }) => setState(term, state));
  socket.on('notice', (n) => showToast(n.message, n.level));

  document.getElementById('guest-name')?.addEventListener('change', (e) => {
    const name = (e.target as HTMLInputElement).value.trim();
    if (name) socket.emit('guest:name', { name });
  });
}
