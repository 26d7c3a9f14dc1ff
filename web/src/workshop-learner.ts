// The learner's side of workshops and hints on a lab page: the host's messages, a notice while the
// host watches the terminal, and a step's hint once the server says it is due. Its own connection
// to the /workshop namespace, so the lab page's terminal code is untouched.
import { io, type Socket } from 'socket.io-client';
import type { WorkshopClientToServer, WorkshopServerToClient } from '../../server/protocol/workshop.ts';

export function startWorkshopLearner(labId: string): void {
  const socket: Socket<WorkshopServerToClient, WorkshopClientToServer> = io('/workshop', { transports: ['websocket', 'polling'], auth: { role: 'learner' } });
  const layout = document.getElementById('lab-layout');

  const banner = (id: string, cls: string) => {
    let el = document.getElementById(id);
    if (!el) {
      el = document.createElement('div');
      el.id = id;
      el.className = cls;
      el.setAttribute('role', 'status');
      layout?.parentElement?.insertBefore(el, layout);
    }
    return el;
  };

  socket.on('connect', () => socket.emit('learner:lab', { labId }));
  socket.on('workshop:message', (m) => {
    const el = banner('workshop-message', 'workshop-message');
    el.innerHTML = '';
    const from = document.createElement('strong');
    from.textContent = `${m.eventName}: `;
    const text = document.createElement('span');
    text.className = 'workshop-message-text';
    text.textContent = m.text;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn-quiet';
    close.textContent = 'Dismiss';
    close.addEventListener('click', () => el.remove());
    el.append(from, text, close);
  });
  socket.on('workshop:watched', (w) => {
    if (w.labId !== labId) return;
    if (w.watched) banner('being-watched', 'being-watched').textContent = '👁 The workshop host is viewing your terminal (read-only).';
    else document.getElementById('being-watched')?.remove();
  });
  socket.on('workshop:notice', (n) => {
    banner('workshop-notice', 'workshop-notice').textContent = n.message;
    setTimeout(() => document.getElementById('workshop-notice')?.remove(), 15_000);
  });
  socket.on('workshop:hint', (h) => {
    if (h.labId !== labId) return;
    const section = document.querySelector<HTMLElement>(`section[data-step-id="${CSS.escape(h.stepId)}"]`);
    if (!section || section.querySelector('.step-hint')) return;
    const box = document.createElement('aside');
    box.className = 'step-hint';
    box.dataset.hintFor = h.stepId;
    const title = document.createElement('strong');
    title.textContent = 'Hint: ';
    const text = document.createElement('span');
    text.textContent = h.text;
    box.append(title, text);
    const checks = section.querySelector('.checks, [data-check-step]');
    if (checks?.parentElement === section) checks.after(box);
    else section.append(box);
  });
}
