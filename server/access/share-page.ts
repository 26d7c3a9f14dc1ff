// The page a share link opens: the session's terminals under a banner saying whose they are and
// what the guest may do. No lab text: a helper looks at the shells (and a playground has none).
import type { GuestBoot } from '../protocol/access.ts';
import { brand, esc, layout } from '../http/pages.ts';

export function guestPage(boot: GuestBoot): string {
  const rw = boot.mode === 'read-write';
  const body = `<header class="topbar">${brand}<span class="lab-title">${esc(boot.title)}</span>
  <span class="session-bar"><span class="session-status" id="guest-status" role="status">Connecting…</span></span>
</header>
<div class="guest-banner" id="guest-banner" data-mode="${esc(boot.mode)}" role="note">
  <span class="guest-text"><strong>You are a guest in someone else's session</strong> of “${esc(boot.title)}”, ${rw
    ? '<span class="guest-mode">read-write</span>: what you type goes into their shells, and they see it.'
    : '<span class="guest-mode">read-only</span>: you see their terminals; typing is switched off.'}</span>
  <label class="guest-name">Your name for the owner: <input id="guest-name" maxlength="40" autocomplete="nickname"></label>
</div>
<div class="terminals guest-terminals" id="terminals"></div>
<div class="overlay" id="overlay" hidden><div class="overlay-box" id="overlay-box"></div></div>`;
  return layout(`Guest: ${boot.title}`, body, { page: 'share-guest', boot });
}
