// The playground page: a free session whose nodes the learner adds and removes, one terminal per
// node (the selected one shows), swarm templates with progress, and live figures per node.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, NodeStats, PlayBoot, ServerToClient, SessionView, TermState } from '../../server/protocol/realtime.ts';
import { TERM_STATE_TEXT, TerminalPane } from './terminal-pane.ts';
import { showToast } from './toast.ts';
import { timeLeftText } from './time-left.ts';
import { initFilesPane } from './files-pane.ts';

const ACK_EVERY = 5_000;
/** A swarm node's own ports (cluster management, gossip): no app answers there, so no link. */
const SWARM_PORTS = new Set([2377, 7946]);
const MAX_INPUT_CHUNK = 64 * 1024;

const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector<T>(sel);

interface NodeView {
  pane: TerminalPane;
  section: HTMLElement;
  item: HTMLLIElement;
}

export function startPlayPage(): void {
  const boot = JSON.parse($('#boot')!.textContent!) as PlayBoot;
  const socket: Socket<ServerToClient, ClientToServer> = io({ transports: ['websocket', 'polling'] });
  const notice = (m: string, level: 'info' | 'warn' | 'error' = 'warn') => showToast(m, level);
  const files = initFilesPane({ ...boot, steps: [], progress: [] }, notice);
  const host = $('#terminals')!;
  const list = $<HTMLUListElement>('#play-nodes')!;
  const addBtn = $<HTMLButtonElement>('#play-add')!;
  const removeBtn = $<HTMLButtonElement>('#play-remove')!;
  const count = $('#play-count')!;
  const message = $('#play-message')!;
  const progressBox = $('#play-progress')!;
  const nodes = new Map<number, NodeView>();
  /**
   * What the server sent for a node before its pane exists: a join answered with a ready session
   * (a reconnect, a reload) attaches the terminals before the answer arrives, so their screen and
   * state come first. Applied when the pane is made.
   */
  const early = new Map<number, { screen: string; state?: { state: TermState; message?: string } }>();
  const earlyFor = (n: number) => early.get(n) ?? early.set(n, { screen: '' }).get(n)!;
  let selected = 0;
  let session: SessionView | undefined;
  let clockSkew = 0;
  let busy = false;

  const say = (text: string) => {
    message.textContent = text;
    message.hidden = !text;
  };

  const select = (n: number) => {
    selected = n;
    for (const [k, v] of nodes) {
      v.section.hidden = k !== n;
      v.item.classList.toggle('selected', k === n);
      v.item.querySelector('button')!.setAttribute('aria-pressed', String(k === n));
    }
    removeBtn.title = n ? `Remove node${n} (the selected node) and everything in it` : '';
    const v = nodes.get(n);
    if (v) requestAnimationFrame(() => {
      v.pane.refit();
      v.pane.focus();
    });
  };

  const addPane = (n: number) => {
    const section = document.createElement('section');
    section.className = 'term-pane';
    section.dataset.terminal = String(n);
    section.innerHTML = `<header class="term-head"><span class="term-name">node${n}</span><span class="term-state" data-term-state="${n}">starting…</span></header><div class="term-body"></div>`;
    host.insertBefore(section, $('#overlay'));
    const pane = new TerminalPane({
      term: n,
      el: $<HTMLElement>('.term-body', section)!,
      ackEvery: ACK_EVERY,
      maxInputChunk: MAX_INPUT_CHUNK,
      maxPasteBytes: boot.maxPasteBytes,
      send: (data) => socket.emit('term:input', { term: n, data }),
      resize: (cols, rows) => socket.emit('term:resize', { term: n, cols, rows }),
      ack: (chars) => socket.emit('term:ack', { term: n, chars }),
      notice,
    });
    const item = document.createElement('li');
    item.className = 'play-node';
    item.dataset.node = String(n);
    item.innerHTML = `<button type="button" class="play-node-tab" aria-pressed="false"><span class="play-node-mark" aria-hidden="true">▣</span> node${n}</button><div class="node-stats" data-node-stats="${n}">waiting for figures…</div><div class="node-ports" data-node-ports="${n}"></div>`;
    item.querySelector('button')!.addEventListener('click', () => select(n));
    const after = [...list.children].find((li) => Number((li as HTMLElement).dataset.node) > n);
    list.insertBefore(item, after ?? null);
    nodes.set(n, { pane, section, item });
    const first = early.get(n);
    early.delete(n);
    if (first?.screen) pane.replay(first.screen);
    if (first?.state) setTermState(n, first.state.state, first.state.message);
  };

  const syncNodes = (want: number[]) => {
    for (const [n, v] of nodes) {
      if (want.includes(n)) continue;
      v.pane.xterm.dispose();
      v.section.remove();
      v.item.remove();
      nodes.delete(n);
    }
    for (const n of want) if (!nodes.has(n)) addPane(n);
    for (const n of early.keys()) if (!want.includes(n)) early.delete(n);
    if (!nodes.has(selected)) select(want[0] ?? 0);
    else select(selected);
    files?.setNodes(want);
    count.dataset.nodes = String(want.length);
    count.textContent = `${want.length} of ${boot.maxNodes} nodes`;
  };

  const renderButtons = () => {
    const ready = session?.phase === 'ready';
    const n = session?.nodes?.length ?? 0;
    addBtn.disabled = !ready || busy;
    addBtn.title = n >= boot.maxNodes ? `This playground has ${boot.maxNodes} nodes, the most it may have` : 'Start one more node on this playground\'s network';
    removeBtn.disabled = !ready || busy || n < 2;
    for (const b of document.querySelectorAll<HTMLButtonElement>('[data-template]')) b.disabled = !ready || busy;
  };

  // ---- session (as on a lab page) ----
  const statusEl = $('#session-status')!;
  const timerEl = $('#session-timer')!;
  const extendBtn = $<HTMLButtonElement>('#session-extend')!;
  const endBtn = $<HTMLButtonElement>('#session-end')!;
  const overlay = $('#overlay')!;
  const overlayBox = $('#overlay-box')!;
  const showOverlay = (html: string, kind: string) => {
    overlayBox.innerHTML = html;
    overlay.dataset.kind = kind;
    overlay.hidden = false;
  };
  const applySession = (s: SessionView) => {
    session = s;
    clockSkew = s.serverNow - Date.now();
    document.body.dataset.sessionPhase = s.phase;
    // The Share panel (access-panel.ts) follows the session through this event, as on a lab page.
    document.dispatchEvent(new CustomEvent('lablab:session', { detail: s }));
    extendBtn.hidden = !(s.canExtend && (s.phase === 'ready' || s.phase === 'starting'));
    endBtn.hidden = !(s.phase === 'ready' || s.phase === 'starting' || s.phase === 'queued');
    const labels: Record<SessionView['phase'], string> = {
      queued: 'Waiting for a free sandbox', starting: 'Starting your first node…', ready: 'Playground ready', expired: 'Session expired', ended: 'Session ended', failed: 'Playground failed',
    };
    statusEl.textContent = labels[s.phase];
    statusEl.dataset.phase = s.phase;
    if (s.phase === 'ready') {
      overlay.hidden = true;
      syncNodes(s.nodes ?? []);
      if (boot.stack && !deployAsked) deploy();
    } else if (s.phase === 'queued') {
      showOverlay(`<h2>The server is full right now</h2><p class="queue-position" data-queue-position="${s.queuePosition ?? ''}">You are number <strong>${s.queuePosition ?? '?'}</strong> in the queue${s.queueLength ? ` of ${s.queueLength}` : ''}.</p><p>This page updates by itself: your first node appears as soon as a sandbox is free. Keep it open.</p>`, 'queue');
    } else if (s.phase === 'starting') {
      showOverlay(`<div class="spinner"></div><h2>Starting your first node</h2><p>${escapeHtml(s.message ?? 'Your own Docker engine is booting. This takes a second or two.')}</p>`, 'starting');
    } else {
      syncNodes([]);
      showOverlay(`<h2>${s.phase === 'expired' ? 'Your session has expired' : s.phase === 'ended' ? 'Session ended' : 'The playground could not start'}</h2><p data-session-message>${escapeHtml(s.message ?? '')}</p><button type="button" class="btn" id="restart">Start a new playground</button>`, s.phase);
      $('#restart')?.addEventListener('click', () => location.reload());
    }
    renderButtons();
    tick();
  };
  const tick = () => {
    if (!session || !(session.phase === 'ready' || session.phase === 'starting')) {
      timerEl.textContent = '';
      return;
    }
    const left = Math.max(0, session.expiresAt - (Date.now() + clockSkew));
    timerEl.textContent = timeLeftText(left);
    timerEl.classList.toggle('low', left < 10 * 60_000);
  };
  setInterval(tick, 15_000);
  extendBtn.addEventListener('click', () => socket.emit('session:extend', {}, (res) => (res.ok ? applySession(res.value) : notice(res.error.message))));
  endBtn.addEventListener('click', () => {
    if (!confirm('End this playground? Every node and everything in it is removed.')) return;
    socket.emit('session:end', {}, (res) => (res.ok ? applySession(res.value) : notice(res.error.message)));
  });

  // ---- a "Try it" link's stack: deployed once the first node is ready ----
  let deployAsked = false;
  const deploy = () => {
    deployAsked = true;
    const state = $('#play-stack-state')!;
    state.dataset.state = 'running';
    state.textContent = 'Deploying…';
    progressBox.hidden = false;
    progressBox.innerHTML = `<h2>Deploying ${escapeHtml(boot.stack!.name)}</h2><ol class="play-steps"></ol>`;
    socket.emit('play:deploy', {}, (res) => {
      state.dataset.state = res.ok ? 'done' : 'failed';
      state.textContent = res.ok ? 'Deployed. Its ports appear under node1.' : res.error.message;
      if (res.ok) {
        const pre = document.createElement('pre');
        pre.className = 'play-node-ls';
        pre.textContent = res.value.output;
        progressBox.append(pre);
      }
    });
  };

  // ---- nodes ----
  const act = (what: string, run: (done: () => void) => void) => {
    busy = true;
    say('');
    statusEl.textContent = what;
    renderButtons();
    run(() => {
      busy = false;
      if (session) applySession(session);
    });
  };
  addBtn.addEventListener('click', () => {
    // Taken now: the session update naming the new node arrives before this answer.
    const before = new Set(nodes.keys());
    act('Starting a node…', (done) =>
      socket.emit('play:add', {}, (res) => {
        if (res.ok) {
          applySession(res.value);
          const added = (res.value.nodes ?? []).find((n) => !before.has(n));
          if (added) select(added);
        } else say(res.error.message);
        done();
      }),
    );
  });
  removeBtn.addEventListener('click', () => {
    const n = selected;
    if (!n) return;
    act(`Removing node${n}…`, (done) =>
      socket.emit('play:remove', { node: n }, (res) => {
        if (res.ok) applySession(res.value);
        else say(res.error.message);
        done();
      }),
    );
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-template]')) {
    b.addEventListener('click', () => {
      progressBox.hidden = false;
      progressBox.dataset.state = 'running';
      progressBox.innerHTML = `<h2>${escapeHtml(b.textContent ?? '')}</h2><ol class="play-steps"></ol>`;
      act(`Applying "${b.textContent}"…`, (done) =>
        socket.emit('play:template', { template: b.dataset.template! }, (res) => {
          if (res.ok) {
            const pre = document.createElement('pre');
            pre.className = 'play-node-ls';
            pre.textContent = `$ docker node ls\n${res.value.nodes}`;
            progressBox.append(pre);
          } else say(res.error.message);
          done();
        }),
      );
    });
  }
  socket.on('play:progress', (p) => {
    progressBox.hidden = false;
    progressBox.dataset.state = p.state;
    const ol = progressBox.querySelector('ol') ?? progressBox.appendChild(document.createElement('ol'));
    for (const li of ol.querySelectorAll('li.running')) li.classList.replace('running', 'done');
    const li = document.createElement('li');
    li.className = p.state;
    li.textContent = p.message;
    ol.append(li);
  });

  // ---- stats and ports ----
  socket.on('play:stats', (all: NodeStats[]) => {
    for (const s of all) {
      const el = $<HTMLElement>(`[data-node-stats="${s.node}"]`);
      if (!el) continue;
      el.dataset.cpu = String(s.cpuPercent);
      el.dataset.memory = String(s.memoryBytes);
      const disk = s.diskTotalBytes ? ` · disk ${bytes(s.diskUsedBytes ?? 0)} / ${bytes(s.diskTotalBytes)}` : '';
      el.textContent = `CPU ${s.cpuPercent.toFixed(1)}% · mem ${bytes(s.memoryBytes)}${s.memoryLimitBytes ? ` / ${bytes(s.memoryLimitBytes)}` : ''}${disk}`;
      const ports = $<HTMLElement>(`[data-node-ports="${s.node}"]`)!;
      const open = s.ports.filter((p) => !SWARM_PORTS.has(p));
      const key = open.join(',');
      if (ports.dataset.key === key) continue;
      ports.dataset.key = key;
      ports.replaceChildren();
      if (!open.length) continue;
      ports.append('Open port: ');
      for (const p of open) {
        const a = document.createElement('a');
        a.href = `/labs/${encodeURIComponent(boot.labId)}/port/${s.node}/${p}/`;
        a.target = '_blank';
        a.rel = 'noopener';
        a.className = 'port-chip';
        a.dataset.port = String(p);
        a.textContent = String(p);
        ports.append(a, ' ');
      }
    }
  });

  // ---- terminals ----
  const setTermState = (term: number, state: TermState, msg?: string) => {
    const el = $(`[data-term-state="${term}"]`);
    if (el) {
      el.textContent = TERM_STATE_TEXT[state];
      el.dataset.state = state;
    }
    if (msg) notice(msg, state === 'failed' ? 'error' : 'info');
  };
  socket.on('connect', () => {
    statusEl.textContent = 'Connecting…';
    socket.emit('session:join', { labId: boot.labId }, (res) => {
      if (!res.ok) {
        statusEl.textContent = 'Could not start';
        statusEl.dataset.phase = 'failed';
        return showOverlay(`<h2>Could not start the playground</h2><p data-session-message>${escapeHtml(res.error.message)}</p>`, 'error');
      }
      applySession(res.value.session);
      nodes.forEach((v) => v.pane.resendSize());
    });
  });
  socket.on('disconnect', () => {
    statusEl.textContent = 'Reconnecting…';
    for (const n of nodes.keys()) setTermState(n, 'reconnecting');
  });
  socket.on('session:update', applySession);
  socket.on('term:replay', ({ term, data }) => {
    const v = nodes.get(term);
    if (v) v.pane.replay(data);
    else earlyFor(term).screen = data;
  });
  socket.on('term:data', ({ term, data }) => {
    const v = nodes.get(term);
    if (v) v.pane.write(data);
    else earlyFor(term).screen += data;
  });
  socket.on('term:state', ({ term, state, message }) => {
    if (nodes.has(term)) setTermState(term, state, message);
    else earlyFor(term).state = { state, message };
  });
  socket.on('notice', (n) => notice(n.message, n.level));
}

function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${Math.round(n / (1 << 20))} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
