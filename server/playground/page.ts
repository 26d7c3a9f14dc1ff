// The playground page's shell: node list with stats and templates on the left, the selected node's
// terminal (or the Files tab) on the right. The browser app builds the node panes as nodes come.
import { brand, esc, layout, sessionBar } from '../http/pages.ts';
import { SWARM_TEMPLATES } from './swarm-template.ts';
import type { PlayBoot } from '../protocol/realtime.ts';

export function playPage(boot: PlayBoot): string {
  const templates = SWARM_TEMPLATES.map((t) => `<button type="button" class="btn-quiet play-template" data-template="${esc(t.id)}">${esc(t.name)}</button>`).join('\n      ');
  const body = `<header class="topbar">
  ${brand}
  <span class="lab-title">Playground</span>
  ${sessionBar}
</header>
<div class="play-layout">
  <aside class="play-side" aria-label="Nodes">
    <div class="play-actions">
      <button type="button" class="btn" id="play-add">Add node</button>
      <button type="button" class="btn-quiet" id="play-remove">Remove node</button>
    </div>
    <p class="play-count" id="play-count" data-nodes="0">No nodes yet</p>
    <p class="play-message" id="play-message" role="alert" hidden></p>
    <ul class="play-nodes" id="play-nodes"></ul>
    <section class="play-templates" aria-labelledby="play-templates-title">
      <h2 id="play-templates-title">Swarm templates</h2>
      <p class="play-help">Makes the nodes and joins them into a swarm.</p>
      ${templates}
    </section>
    <section class="play-progress" id="play-progress" role="status" hidden></section>
    ${boot.stackError ? `<p class="play-message play-stack-error" id="play-stack-error" role="alert">${esc(boot.stackError)}</p>` : ''}
    ${boot.stack ? `<section class="play-stack" id="play-stack"><h2>Stack</h2><p><code>${esc(boot.stack.name)}</code> from <span class="play-stack-source">${esc(boot.stack.source)}</span> (${boot.stack.mode === 'swarm' ? 'docker stack deploy' : 'docker compose up -d'})</p><p class="play-stack-state" id="play-stack-state" data-state="waiting">Deployed as soon as node1 is ready.</p></section>` : ''}
  </aside>
  <div class="terminals play-terminals" id="terminals">
    <div class="overlay" id="overlay" hidden><div class="overlay-box" id="overlay-box"></div></div>
  </div>
</div>`;
  return layout('Playground', body, { page: 'play', boot });
}
