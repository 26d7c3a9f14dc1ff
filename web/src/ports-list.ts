// Under each terminal: the ports its node listens on, each a link through the port proxy
// (Play-With-Docker polled for these too). Polls only while the session is ready and the page shows.
import type { LabBoot } from '../../server/protocol/realtime.ts';

const POLL_MS = 4000;

export function initPortsList(boot: LabBoot, portUrl: (node: number, port: number) => string): void {
  const lists = new Map<number, HTMLElement>();
  for (const pane of document.querySelectorAll<HTMLElement>('[data-terminal]')) {
    const n = Number(pane.dataset.terminal);
    const el = document.createElement('div');
    el.className = 'port-list';
    el.dataset.portsNode = String(n);
    el.hidden = true;
    pane.append(el);
    lists.set(n, el);
  }
  const seen = new Map<number, string>();
  const poll = async () => {
    if (document.hidden || document.body.dataset.sessionPhase !== 'ready') return;
    for (const [n, el] of lists) {
      try {
        const res = await fetch(`/labs/${encodeURIComponent(boot.labId)}/ports/${n}`, { credentials: 'same-origin' });
        const body = (await res.json()) as { ok: boolean; value?: { ports: number[] } };
        if (!body.ok || !body.value) continue;
        const key = body.value.ports.join(',');
        if (seen.get(n) === key) continue;
        seen.set(n, key);
        el.replaceChildren();
        el.hidden = body.value.ports.length === 0;
        if (el.hidden) continue;
        el.append('Open port: ');
        for (const p of body.value.ports) {
          const a = document.createElement('a');
          a.href = portUrl(n, p);
          a.target = '_blank';
          a.rel = 'noopener';
          a.textContent = String(p);
          a.dataset.port = String(p);
          a.className = 'port-chip';
          el.append(a, ' ');
        }
      } catch {
        // The next poll tries again.
      }
    }
  };
  setInterval(() => void poll(), POLL_MS);
  setTimeout(() => void poll(), 1000);
}
