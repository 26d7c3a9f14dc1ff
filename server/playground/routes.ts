// GET /play (with PWD's ?stack=…&stack_name=…&image_name=… and our mode=swarm), /badge.svg and
// /try (the "Try it here" snippet for a stack URL). Mounted after the learner cookie is set.
import express, { type Request, type Router } from 'express';
import { TUNING } from '../config.ts';
import { AppError } from '../errors.ts';
import { brand, esc, layout } from '../http/pages.ts';
import type { PlayBoot } from '../protocol/realtime.ts';
import type { StackInbox } from '../stacks/inbox.ts';
import { loadStack, type StackSourceConfig } from '../stacks/stack-source.ts';
import { playPage } from './page.ts';
import { PLAY_LAB_ID } from './play-lab.ts';

export interface PlaygroundRoutesDeps {
  maxNodes: number;
  maxUploadBytes: number;
  stacks: StackSourceConfig;
  inbox: StackInbox;
  log(msg: string, err?: unknown): void;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export const BADGE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="104" height="20" role="img" aria-label="Try it here"><title>Try it here</title><rect width="104" height="20" rx="3" fill="#0b1a2e"/><rect x="4" y="6" width="8" height="8" fill="#60a5fa"/><text x="58" y="14" fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">Try it here</text></svg>`;

export function createPlaygroundRoutes(deps: PlaygroundRoutesDeps): Router {
  const r = express.Router();

  r.get('/play', async (req, res) => {
    const boot: PlayBoot = { labId: PLAY_LAB_ID, title: 'Playground', terms: deps.maxNodes, maxNodes: deps.maxNodes, maxPasteBytes: TUNING.maxPasteBytes, maxUploadBytes: deps.maxUploadBytes, steps: [], progress: [] };
    const stack = str(req.query.stack);
    if (stack) {
      try {
        const loaded = await loadStack(deps.stacks, { stack: stack.slice(0, 2000), name: str(req.query.stack_name), mode: str(req.query.mode) });
        deps.inbox.put(req.learnerId, loaded);
        boot.stack = { source: loaded.source, name: loaded.plan.name, mode: loaded.plan.mode };
      } catch (err) {
        if (!(err instanceof AppError)) deps.log(`stack ${stack.slice(0, 200)} could not be loaded`, err);
        boot.stackError = err instanceof AppError ? err.message : 'The stack could not be loaded.';
      }
    }
    res.type('html').send(playPage(boot));
  });

  r.get('/badge.svg', (_req, res) => {
    res.type('image/svg+xml').set('Cache-Control', 'public, max-age=86400').send(BADGE_SVG);
  });

  r.get('/try', (req, res) => {
    const stack = str(req.query.stack) ?? '';
    res.type('html').send(tryPage(origin(req), stack));
  });

  return r;
}

function origin(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** Markdown and HTML for a README: our badge linking to a playground that deploys the stack. */
export function trySnippets(base: string, stack: string): { link: string; markdown: string; html: string } {
  const link = `${base}/play?stack=${encodeURIComponent(stack)}`;
  return {
    link,
    markdown: `[![Try it here](${base}/badge.svg)](${link})`,
    html: `<a href="${esc(link)}"><img src="${base}/badge.svg" alt="Try it here"></a>`,
  };
}

function tryPage(base: string, stack: string): string {
  const s = stack ? trySnippets(base, stack) : undefined;
  const body = `<header class="topbar">${brand}<span class="lab-title">Try it here</span></header>
<main class="catalogue try-page">
  <h1>A "Try it here" button for your stack</h1>
  <p class="lede">Give the address of a Compose file (or a Swarm stack). A click opens a playground here and deploys it: <code>docker compose up -d</code>, so <code>build:</code> works, or <code>docker stack deploy</code> for a stack with <code>deploy:</code> keys or with <code>&amp;mode=swarm</code>. A Play-With-Docker badge works too once its host is changed to this one.</p>
  <form method="get" action="/try"><label>Stack file URL <input type="url" name="stack" size="70" value="${esc(stack)}" required placeholder="https://…/docker-compose.yml"></label> <button class="btn" type="submit">Make the snippet</button></form>
  ${s ? `<h2>Preview</h2><p><a href="${esc(s.link)}"><img src="/badge.svg" alt="Try it here"></a></p>
  <h2>Markdown</h2><pre class="snippet" data-snippet="markdown">${esc(s.markdown)}</pre>
  <h2>HTML</h2><pre class="snippet" data-snippet="html">${esc(s.html)}</pre>` : ''}
</main>`;
  return layout('Try it here', body, { page: 'try' });
}
