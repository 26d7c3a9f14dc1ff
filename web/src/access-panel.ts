// The owner's "Share" panel on a session page: share links (read-only or read-write, revoked at
// once), who is in (live), and ssh access (a one-time token, or a public key for this session).
// It learns the session from the page's `lablab:session` event (lab pages and playgrounds send it).
import { io, type Socket } from 'socket.io-client';
import type { AccessClientToServer, AccessServerToClient, AccessStateView, ShareMode } from '../../server/protocol/access.ts';
import type { SessionView } from '../../server/protocol/realtime.ts';
import { showToast } from './toast.ts';

export function startAccessPanel(): void {
  const bar = document.querySelector('.session-bar');
  if (!bar) return;
  let socket: Socket<AccessServerToClient, AccessClientToServer> | undefined;
  let sessionId: string | undefined;
  let state: AccessStateView | undefined;
  /** Link id → its address: known only on the page that made it (the server keeps no token). */
  const made = new Map<string, string>();

  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'btn-quiet';
  button.id = 'share-button';
  button.textContent = 'Share';
  button.hidden = true;
  button.setAttribute('aria-expanded', 'false');
  bar.prepend(button);

  const panel = document.createElement('aside');
  panel.id = 'access-panel';
  panel.className = 'access-panel';
  panel.hidden = true;
  panel.setAttribute('aria-label', 'Share this session');
  panel.innerHTML = `
<h2>Share this session</h2>
<p class="access-note">A link lets someone see your terminals (read-only) or type into them (read-write). It ends with your session; revoke it to cut them off at once.</p>
<div class="access-actions">
  <button type="button" class="btn" data-share="read-only">Make a read-only link</button>
  <button type="button" class="btn" data-share="read-write">Make a read-write link</button>
</div>
<ul class="access-links" id="access-links"></ul>
<h3>Who is in</h3>
<ul class="access-visitors" id="access-visitors"></ul>
<section id="access-ssh" hidden>
  <h3>ssh</h3>
  <p class="access-note">Log in to a node from your own terminal. Each token opens one login and is good for 10 minutes.</p>
  <button type="button" class="btn" id="ssh-token">Make a one-time ssh token</button>
  <div id="ssh-token-out"></div>
  <label class="access-key">Or paste a public key (for this session only):
    <textarea id="ssh-key" rows="2" placeholder="ssh-ed25519 AAAA… you@laptop"></textarea></label>
  <button type="button" class="btn-quiet" id="ssh-key-add">Add key</button>
  <ul class="access-keys" id="ssh-keys"></ul>
</section>`;
  document.body.append(panel);

  button.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    button.setAttribute('aria-expanded', String(!panel.hidden));
  });

  const call = <K extends keyof AccessClientToServer>(event: K, req: Parameters<AccessClientToServer[K]>[0]) =>
    new Promise<unknown>((resolve, reject) => {
      if (!socket) return reject(new Error('Not connected yet.'));
      (socket.emit as (e: string, r: unknown, ack: (res: { ok: boolean; value?: unknown; error?: { message: string } }) => void) => void)(event, req, (res) =>
        res.ok ? resolve(res.value) : reject(new Error(res.error!.message)),
      );
    });
  const failed = (e: Error) => showToast(e.message, 'error');

  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };

  const render = () => {
    if (!state) return;
    const n = state.visitors.length;
    button.textContent = n ? `Share · ${n} in` : 'Share';
    const links = panel.querySelector('#access-links')!;
    links.replaceChildren(...state.shares.map((l) => {
      const li = el('li');
      li.dataset.linkId = l.id;
      li.dataset.mode = l.mode;
      li.append(el('span', l.mode, 'access-mode'));
      const url = made.get(l.id);
      if (url) {
        const input = el('input');
        input.readOnly = true;
        input.value = url;
        input.className = 'access-url';
        input.setAttribute('aria-label', `${l.mode} share link`);
        input.addEventListener('focus', () => input.select());
        const copy = el('button', 'Copy', 'btn-quiet');
        copy.type = 'button';
        copy.addEventListener('click', () => void navigator.clipboard?.writeText(url).then(() => showToast('Link copied.', 'info'), () => input.select()));
        li.append(input, copy);
      } else {
        li.append(el('span', `made ${new Date(l.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`, 'access-when'));
      }
      const revoke = el('button', 'Revoke', 'btn-quiet');
      revoke.type = 'button';
      revoke.addEventListener('click', () => void call('share:revoke', { sessionId: sessionId!, id: l.id }).then(() => showToast('Link revoked: whoever used it is out.', 'info'), failed));
      li.append(revoke);
      return li;
    }));
    const visitors = panel.querySelector('#access-visitors')!;
    visitors.replaceChildren(...(state.visitors.length ? state.visitors.map((v) => {
      const li = el('li');
      li.dataset.visitor = v.kind;
      li.dataset.mode = v.mode;
      li.append(el('span', `${v.label}${v.node ? ` on node${v.node}` : ''}`, 'access-who'), el('span', v.mode, 'access-mode'));
      const out = el('button', 'Disconnect', 'btn-quiet');
      out.type = 'button';
      out.addEventListener('click', () => void call('visitor:disconnect', { sessionId: sessionId!, id: v.id }).catch(failed));
      li.append(out);
      return li;
    }) : [el('li', 'Only you.', 'access-empty')]));
    const ssh = panel.querySelector<HTMLElement>('#access-ssh')!;
    ssh.hidden = !state.ssh;
    panel.querySelector('#ssh-keys')!.replaceChildren(...state.sshKeys.map((k) => {
      const li = el('li');
      li.append(el('code', k.fingerprint), el('span', ` ${k.comment}`));
      const rm = el('button', 'Remove', 'btn-quiet');
      rm.type = 'button';
      rm.addEventListener('click', () => void call('ssh:key:remove', { sessionId: sessionId!, fingerprint: k.fingerprint }).catch(failed));
      li.append(rm);
      return li;
    }));
  };

  for (const b of panel.querySelectorAll<HTMLButtonElement>('[data-share]')) {
    b.addEventListener('click', () => {
      const mode = b.dataset.share as ShareMode;
      void call('share:create', { sessionId: sessionId!, mode }).then((v) => {
        const { link, path } = v as { link: { id: string }; path: string };
        made.set(link.id, new URL(path, location.href).href);
        render();
      }, failed);
    });
  }
  panel.querySelector('#ssh-token')!.addEventListener('click', () => {
    void call('ssh:token', { sessionId: sessionId! }).then((v) => {
      const t = v as { token: string; user: string; port: number; expiresAt: number };
      const out = panel.querySelector('#ssh-token-out')!;
      const cmd = el('code', `ssh -p ${t.port} ${t.user}@${location.hostname}`, 'ssh-command');
      const token = el('code', t.token, 'ssh-token');
      token.id = 'ssh-token-value';
      out.replaceChildren(el('p', 'Run (node1; change the number for another node):'), cmd, el('p', 'and paste this token when asked:'), token,
        el('p', `Good for one login until ${new Date(t.expiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.`, 'access-note'));
    }, failed);
  });
  panel.querySelector('#ssh-key-add')!.addEventListener('click', () => {
    const box = panel.querySelector<HTMLTextAreaElement>('#ssh-key')!;
    void call('ssh:key:add', { sessionId: sessionId!, key: box.value }).then(() => {
      box.value = '';
      showToast('Key added: it opens this session only.', 'info');
    }, failed);
  });

  const open = () => {
    if (!socket) {
      socket = io('/access', { transports: ['websocket', 'polling'] });
      socket.on('access:state', (s) => {
        state = s;
        render();
      });
      // After a reconnect the server has forgotten this page's room: ask again.
      socket.on('connect', () => sessionId && open());
    }
    if (!socket.connected) return;
    void call('access:open', { sessionId: sessionId! }).then((s) => {
      state = s as AccessStateView;
      button.hidden = false;
      render();
    }, () => (button.hidden = true));
  };

  document.addEventListener('lablab:session', (e) => {
    const s = (e as CustomEvent<SessionView>).detail;
    const live = s.phase === 'ready' || s.phase === 'starting';
    if (!live) {
      button.hidden = true;
      panel.hidden = true;
      return;
    }
    if (s.id === sessionId && !button.hidden) return;
    sessionId = s.id;
    made.clear();
    open();
  });
}
