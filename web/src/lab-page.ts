// The lab page: lab text with click-to-run blocks and live checks on one side, terminals on the other.
import { timeLeftText } from './time-left.ts';
import { io, type Socket } from 'socket.io-client';
import type { CheckView, ClientToServer, LabBoot as Boot, ServerToClient, SessionView, TermState } from '../../server/protocol/realtime.ts';
import { TERM_STATE_TEXT, TerminalPane } from './terminal-pane.ts';
import { RunQueue, type InputMode, type QueuedBlock } from './run-queue.ts';
import { showToast } from './toast.ts';
import { initSplitter } from './splitter.ts';
import { initQuizzes } from './quiz.ts';
import { initLabVariables } from './lab-vars.ts';

// Must match TUNING on the server: ack size ≤ low watermark; input chunk ≤ maxInputChunk.
const ACK_EVERY = 5_000;
const MAX_INPUT_CHUNK = 64 * 1024;
/** Output silence after which a queued block is typed although no bash prompt came (an inner `sh`). */
const QUEUE_QUIET_MS = 5_000;

const $ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector<T>(sel);
const $$ = <T extends HTMLElement>(sel: string, root: ParentNode = document) => [...root.querySelectorAll<T>(sel)];

export function startLabPage(): void {
  const boot = JSON.parse($('#boot')!.textContent!) as Boot;
  const socket: Socket<ServerToClient, ClientToServer> = io({ transports: ['websocket', 'polling'] });
  const panes = new Map<number, TerminalPane>();
  const queues = new Map<number, RunQueue>();
  const queueKey = `lablab:queued:${boot.labId}`;
  const checkState = new Map<string, CheckView>();
  let session: SessionView | undefined;
  let clockSkew = 0;

  const notice = (message: string, level: 'info' | 'warn' | 'error' = 'warn') => showToast(message, level);

  for (const el of $$<HTMLElement>('[data-terminal]')) {
    const term = Number(el.dataset.terminal);
    const body = $<HTMLElement>('.term-body', el)!;
    const queue = new RunQueue({
      send: (b, mode) => typeBlock(term, b, mode),
      changed: () => renderQueues(),
      timers: { setTimeout: (fn, ms) => window.setTimeout(fn, ms), clearTimeout: (h) => window.clearTimeout(h as number) },
      quietMs: QUEUE_QUIET_MS,
    });
    queues.set(term, queue);
    panes.set(
      term,
      new TerminalPane({
        term,
        el: body,
        ackEvery: ACK_EVERY,
        maxInputChunk: MAX_INPUT_CHUNK,
        maxPasteBytes: boot.maxPasteBytes,
        send: (data) => socket.emit('term:input', { term, data }),
        resize: (cols, rows) => socket.emit('term:resize', { term, cols, rows }),
        ack: (chars) => socket.emit('term:ack', { term, chars }),
        notice,
        shell: queue,
      }),
    );
  }

  initSplitter($('#lab-layout')!, $('#splitter')!, () => panes.forEach((p) => p.refit()));
  initQuizzes($('#lab-text')!);
  // Before the run queue below restores blocks: their text must already show the learner's values.
  const variables = initLabVariables({
    root: $('#lab-text')!,
    initial: boot.variables ?? {},
    send: (values) =>
      new Promise((resolve, reject) =>
        socket.emit('vars:set', { labId: boot.labId, values }, (res) => (res.ok ? resolve(res.value) : reject(new Error(res.error.message)))),
      ),
    notice: (m) => notice(m, 'error'),
  });

  // ---- click to run ----
  for (const block of $$<HTMLElement>('pre[data-term]')) {
    // Keyboard users: Tab to a block, Enter (or Space) runs it.
    block.tabIndex = 0;
    block.setAttribute('role', 'button');
    block.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        block.click();
      }
    });
    block.addEventListener('click', () => {
      if (window.getSelection()?.toString()) return; // selecting text to copy is not a click to run
      const term = Number(block.dataset.term);
      if (!queues.has(term)) return notice(`This block runs in terminal ${term}, which this lab does not have.`);
      enqueue(block);
    });
  }

  // ---- the run queue: a click is never lost (see run-queue.ts) ----
  const blockByKey = new Map($$<HTMLElement>('pre[data-term]').map((b) => [b.dataset.blockId ?? '', b] as const));
  function enqueue(block: HTMLElement): void {
    const term = Number(block.dataset.term);
    queues.get(term)?.click({ key: block.dataset.blockId ?? '', code: (block.textContent ?? '').replace(/\n+$/, ''), stepId: block.dataset.stepId, interrupt: !!block.dataset.interrupt });
  }
  // An imported lab's step may have set-up scripts: they run (once) before the step's first block.
  const setupDone = new Map<string, Promise<void>>();
  const stepSetup = (stepId: string | undefined): Promise<void> => {
    if (!stepId || !document.querySelector(`[data-setup-step="${CSS.escape(stepId)}"]`)) return Promise.resolve();
    let p = setupDone.get(stepId);
    if (!p) {
      p = new Promise<void>((resolve) =>
        socket.emit('step:setup', { stepId }, (res) => {
          if (!res.ok) notice(res.error.message);
          else if (!res.value.ok) notice(`This step's preparation failed: ${res.value.message ?? 'unknown error'}. The block runs anyway.`);
          resolve();
        }),
      );
      setupDone.set(stepId, p);
    }
    return p;
  };
  function typeBlock(term: number, b: QueuedBlock, mode: InputMode): void {
    const pane = panes.get(term)!;
    const el = blockByKey.get(b.key);
    void stepSetup(b.stepId).then(() => {
      if (b.stepId) socket.emit('block:ran', { stepId: b.stepId });
      // {{exec interrupt}}: Ctrl-C first, then the block once the shell has had a moment to stop it and
      // show its prompt again, so it goes in as a paste.
      if (b.interrupt) {
        pane.input('\x03');
        setTimeout(() => pane.run(b.code, 'paste'), 150);
      } else if (el?.dataset.noNewline) pane.input(b.code); // the learner finishes the line and presses Enter
      else pane.run(b.code, mode);
      el?.classList.add('ran');
      pane.focus();
    });
  }
  const queueStatus = document.createElement('span');
  queueStatus.id = 'run-queue-status';
  queueStatus.className = 'run-queue-status';
  queueStatus.setAttribute('role', 'status');
  $('#session-status')?.after(queueStatus);
  function renderQueues(): void {
    const saved: { term: number; key: string }[] = [];
    for (const b of blockByKey.values()) delete b.dataset.runState;
    let waitingForShell = 0, waitingForPrompt = 0;
    for (const [term, q] of queues) {
      q.queued.forEach((item, i) => {
        saved.push({ term, key: item.key });
        const el = blockByKey.get(item.key);
        if (el) {
          el.dataset.runState = 'queued';
          el.dataset.queuePos = String(i + 1);
          el.title = 'Queued: it runs when the shell is ready for it. Click again to type it now.';
        }
      });
      if (q.state === 'detached' || q.state === 'waiting') waitingForShell += q.queued.length;
      else waitingForPrompt += q.queued.length;
    }
    const n = waitingForShell + waitingForPrompt;
    queueStatus.textContent = !n ? '' : waitingForShell
      ? `${n} block${n > 1 ? 's' : ''} queued: ${n > 1 ? 'they run' : 'it runs'} as soon as the shell is ready`
      : `${n} block${n > 1 ? 's' : ''} queued behind the running command`;
    queueStatus.dataset.queued = String(n);
    try {
      if (saved.length) sessionStorage.setItem(queueKey, JSON.stringify(saved));
      else sessionStorage.removeItem(queueKey);
    } catch {
      // Storage may be off (private mode); the queue still works, it just does not survive a reload.
    }
  }
  // Blocks queued before a reload wait again, in the same order.
  try {
    const saved = JSON.parse(sessionStorage.getItem(queueKey) ?? '[]') as { term: number; key: string }[];
    for (const { key } of Array.isArray(saved) ? saved : []) {
      const el = typeof key === 'string' ? blockByKey.get(key) : undefined;
      if (el) enqueue(el);
    }
  } catch {
    sessionStorage.removeItem(queueKey);
  }
  // Clicks that landed before this script ran (server/http/early-clicks.ts kept them).
  const early = window as unknown as { __lablabEarlyClicks?: unknown; __lablabAppReady?: boolean };
  early.__lablabAppReady = true;
  for (const key of Array.isArray(early.__lablabEarlyClicks) ? early.__lablabEarlyClicks : []) {
    const el = typeof key === 'string' ? blockByKey.get(key) : undefined;
    if (el && !queues.get(Number(el.dataset.term))?.queued.some((b) => b.key === key)) enqueue(el);
  }
  renderQueues();
  for (const btn of $$<HTMLButtonElement>('[data-copy-block]')) {
    btn.addEventListener('click', (e) => {
      e.stopPropagation();
      const pre = btn.parentElement?.querySelector('pre');
      void navigator.clipboard?.writeText(pre?.textContent ?? '').then(
        () => flash(btn, 'Copied'),
        () => flash(btn, 'Copy failed'),
      );
    });
  }
  // ---- "Save file" blocks: the block's text is written into the working directory of its node ----
  for (const btn of $$<HTMLButtonElement>('[data-save-block]')) {
    btn.addEventListener('click', () => {
      const pre = btn.parentElement?.querySelector<HTMLElement>('pre[data-save-path]');
      if (!pre) return;
      if (session?.phase !== 'ready') return notice('Your sandbox is still starting; try again in a moment.', 'info');
      const node = pre.dataset.saveTerm ?? '1';
      btn.disabled = true;
      void stepSetup(pre.dataset.stepId)
        .then(() =>
          fetch(`/labs/${encodeURIComponent(boot.labId)}/files/${node}/write?path=${encodeURIComponent(pre.dataset.savePath!)}&base=`, {
            method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: pre.textContent ?? '',
          }),
        )
        .then(async (res) => {
          const body = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: { message?: string } };
          if (!body.ok) throw new Error(body.error?.message ?? `The server answered ${res.status}.`);
          pre.classList.add('ran');
          flash(btn, 'Saved');
          if (pre.dataset.stepId) socket.emit('block:ran', { stepId: pre.dataset.stepId });
        })
        .catch((e: Error) => notice(`Could not save ${pre.dataset.savePath}: ${e.message}`, 'error'))
        .finally(() => (btn.disabled = false));
    });
  }
  for (const a of $$<HTMLAnchorElement>('a.port-link')) {
    a.href = `/labs/${encodeURIComponent(boot.labId)}/port/${a.dataset.portTerm ?? '1'}/${a.dataset.port}/${(a.dataset.portPath ?? '/').replace(/^\//, '')}`;
    a.title = `Port ${a.dataset.port} of node${a.dataset.portTerm ?? '1'}, opened through your sandbox`;
    a.addEventListener('click', (e) => {
      e.preventDefault();
      if (session?.phase !== 'ready') return notice('Your sandbox is still starting; try again in a moment.', 'info');
      window.open(a.href, '_blank', 'noopener');
    });
  }

  // ---- checks ----
  const renderCheck = (v: CheckView) => {
    checkState.set(v.id, v);
    const li = document.querySelector<HTMLElement>(`[data-check-id="${CSS.escape(v.id)}"]`);
    if (!li) return;
    const status = $<HTMLElement>('[data-check-status]', li);
    if (status) {
      status.dataset.checkStatus = v.status;
      status.setAttribute('aria-label', v.status);
    }
    const msg = $<HTMLElement>('.check-message', li);
    if (msg) msg.textContent = v.status === 'pending' ? '' : v.message;
    renderProgress();
  };
  const renderProgress = () => {
    let passed = 0, total = 0;
    for (const step of boot.steps) {
      const done = step.checks.length > 0 && step.checks.every((id) => checkState.get(id)?.status === 'pass');
      $(`section[data-step-id="${CSS.escape(step.id)}"]`)?.classList.toggle('step-done', done);
      total += step.checks.length;
      passed += step.checks.filter((id) => checkState.get(id)?.status === 'pass').length;
    }
    const bar = $('#lab-progress');
    if (bar && total) bar.innerHTML = `<div class="progress"><div class="progress-bar" style="width:${Math.round((100 * passed) / total)}%"></div></div><span>${passed} of ${total} checks passed</span>`;
  };
  boot.progress.forEach(renderCheck);
  renderProgress();
  for (const btn of $$<HTMLButtonElement>('[data-check-step]')) {
    btn.addEventListener('click', () => {
      const stepId = btn.dataset.checkStep!;
      btn.disabled = true;
      btn.textContent = 'Checking…';
      socket.emit('checks:run', { stepId }, (res) => {
        btn.disabled = false;
        btn.textContent = 'Check';
        if (res.ok) res.value.forEach(renderCheck);
        else notice(res.error.message);
      });
    });
  }

  // ---- session ----
  const statusEl = $('#session-status')!;
  const timerEl = $('#session-timer')!;
  const extendBtn = $<HTMLButtonElement>('#session-extend')!;
  const endBtn = $<HTMLButtonElement>('#session-end')!;
  const overlay = $('#overlay')!;
  const overlayBox = $('#overlay-box')!;

  /** Whether this page saw the sandbox ready: a failure after that is a sandbox that stopped, not one that never started. */
  let wasReady = false;
  const applySession = (s: SessionView) => {
    session = s;
    if (s.phase === 'ready') wasReady = true;
    clockSkew = s.serverNow - Date.now();
    document.body.dataset.sessionPhase = s.phase;
    // The Share panel (access-panel.ts) follows the session through this event.
    document.dispatchEvent(new CustomEvent('lablab:session', { detail: s }));
    extendBtn.hidden = !(s.canExtend && (s.phase === 'ready' || s.phase === 'starting'));
    endBtn.hidden = !(s.phase === 'ready' || s.phase === 'starting' || s.phase === 'queued');
    const labels: Record<SessionView['phase'], string> = {
      queued: 'Waiting for a free sandbox', starting: 'Starting your sandbox…', ready: 'Sandbox ready', expired: 'Session expired', ended: 'Session ended', failed: 'Sandbox failed',
    };
    statusEl.textContent = s.phase === 'failed' && wasReady ? 'Sandbox stopped' : labels[s.phase];
    statusEl.dataset.phase = s.phase;
    if (s.phase === 'ready' || boot.terms === 0) {
      overlay.hidden = true;
    } else if (s.phase === 'queued') {
      showOverlay(`<h2>The lab is full right now</h2><p class="queue-position" data-queue-position="${s.queuePosition ?? ''}">You are number <strong>${s.queuePosition ?? '?'}</strong> in the queue${s.queueLength ? ` of ${s.queueLength}` : ''}.</p><p>This page updates by itself: your terminal appears as soon as a sandbox is free. Keep it open.</p>`, 'queue');
    } else if (s.phase === 'starting') {
      showOverlay(`<div class="spinner"></div><h2>Starting your sandbox</h2><p>${s.message ? escapeHtml(s.message) : 'Your own Docker engine is booting with the lab images preloaded. This takes a second or two.'}</p><p class="overlay-hint">Go ahead and click the lab's blocks: they are queued and run in order as soon as the shell is ready.</p>`, 'starting');
    } else {
      showOverlay(`<h2>${s.phase === 'expired' ? 'Your session has expired' : s.phase === 'ended' ? 'Session ended' : wasReady ? 'Your sandbox stopped' : 'The sandbox could not start'}</h2><p data-session-message>${escapeHtml(s.message ?? '')}</p><button type="button" class="btn" id="restart">Start a new sandbox</button>`, s.phase);
      $('#restart')?.addEventListener('click', () => location.reload());
    }
    tick();
  };
  const showOverlay = (html: string, kind: string) => {
    overlayBox.innerHTML = html;
    overlay.dataset.kind = kind;
    overlay.hidden = false;
  };
  const tick = () => {
    if (!session || !(session.phase === 'ready' || session.phase === 'starting')) {
      timerEl.textContent = '';
      return;
    }
    const left = Math.max(0, session.expiresAt - (Date.now() + clockSkew));
    timerEl.textContent = timeLeftText(left);
    timerEl.title = `Your sandbox is removed at ${new Date(session.expiresAt - clockSkew).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
    timerEl.classList.toggle('low', left < 10 * 60_000);
  };
  setInterval(tick, 15_000);

  extendBtn.addEventListener('click', () =>
    socket.emit('session:extend', {}, (res) => (res.ok ? applySession(res.value) : notice(res.error.message))),
  );
  endBtn.addEventListener('click', () => {
    if (!confirm('End this session? Your sandbox and everything in it will be removed. Your progress is kept.')) return;
    socket.emit('session:end', {}, (res) => (res.ok ? applySession(res.value) : notice(res.error.message)));
  });

  const setTermState = (term: number, state: TermState, message?: string) => {
    if (state === 'ready') queues.get(term)?.attached();
    else queues.get(term)?.detached();
    const el = $(`[data-term-state="${term}"]`);
    if (!el) return;
    el.textContent = TERM_STATE_TEXT[state];
    el.dataset.state = state;
    if (message) notice(message, state === 'failed' ? 'error' : 'info');
  };

  socket.on('connect', () => {
    statusEl.textContent = 'Connecting…';
    socket.emit('session:join', { labId: boot.labId }, (res) => {
      if (!res.ok) {
        showOverlay(`<h2>Could not start this lab</h2><p>${escapeHtml(res.error.message)}</p>`, 'error');
        return;
      }
      applySession(res.value.session);
      res.value.checks.forEach(renderCheck);
      if (res.value.variables) variables.apply(res.value.variables);
      panes.forEach((p) => p.resendSize());
    });
  });
  socket.on('disconnect', () => {
    statusEl.textContent = 'Reconnecting…';
    statusEl.dataset.phase = 'reconnecting';
    for (const n of panes.keys()) setTermState(n, 'reconnecting');
  });
  socket.on('connect_error', (err) => {
    statusEl.textContent = 'Cannot reach the server; retrying…';
    statusEl.dataset.phase = 'reconnecting';
    if (/cookie/.test(err.message)) notice(err.message, 'error');
  });
  socket.on('session:update', applySession);
  socket.on('term:replay', ({ term, data }) => panes.get(term)?.replay(data));
  socket.on('term:data', ({ term, data }) => panes.get(term)?.write(data));
  socket.on('term:state', ({ term, state, message }) => setTermState(term, state, message));
  socket.on('check:update', (views) => views.forEach(renderCheck));
  socket.on('notice', (n) => notice(n.message, n.level));
  socket.on('vars:update', ({ labId, values }) => labId === boot.labId && variables.apply(values));
  socket.on('lab:changed', ({ labId }) => {
    if (labId !== boot.labId || document.getElementById('lab-changed')) return;
    const bar = document.createElement('div');
    bar.id = 'lab-changed';
    bar.className = 'lab-changed';
    bar.innerHTML = 'This lab was edited. <button type="button" class="btn">Reload to see the new version</button>';
    bar.querySelector('button')!.addEventListener('click', () => location.reload());
    $('#lab-text')?.prepend(bar);
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function flash(btn: HTMLElement, text: string): void {
  const old = btn.textContent;
  btn.textContent = text;
  setTimeout(() => (btn.textContent = old), 1200);
}
