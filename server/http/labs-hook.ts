// POST /hooks/labs: a git host's push webhook (or curl in a CI job) refreshes the LABS_REPOS checkouts.
// The secret (LABS_HOOK_SECRET) comes as `Authorization: Bearer <secret>`, as GitLab's
// `X-Gitlab-Token: <secret>`, or as the HMAC-SHA256 of the body that GitHub and Gitea send in
// `X-Hub-Signature-256: sha256=<hex>`. Every comparison takes the same time whatever the guess.
// The answer says, per repository, whether it moved and to which commit.
import crypto from 'node:crypto';
import express from 'express';
import type { RepoRefresh } from '../catalogue/labs-sync.ts';

export const LABS_HOOK_PATH = '/hooks/labs';

/** Equal-length digests compared with timingSafeEqual: neither length nor content leaks through timing. */
export function sameSecret(given: string, secret: string): boolean {
  const h = (s: string) => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(h(given), h(secret));
}

export function hookAuthorized(headers: Record<string, string | string[] | undefined>, body: Buffer, secret: string): boolean {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const bearer = /^Bearer\s+(.+)$/i.exec(one('authorization') ?? '')?.[1]?.trim();
  if (bearer !== undefined) return sameSecret(bearer, secret);
  const gitlab = one('x-gitlab-token');
  if (gitlab !== undefined) return sameSecret(gitlab, secret);
  const signature = one('x-hub-signature-256');
  if (signature !== undefined) return sameSecret(signature, `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`);
  return false;
}

export function createLabsHookRoute(deps: { secret: string; refresh(): Promise<RepoRefresh[]>; log(msg: string, err?: unknown): void }): express.Router {
  const router = express.Router();
  router.post(LABS_HOOK_PATH, express.raw({ type: () => true, limit: '2mb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!hookAuthorized(req.headers, body, deps.secret)) {
      res.status(401).json({ ok: false, error: { code: 'unauthorized', message: 'Send LABS_HOOK_SECRET as "Authorization: Bearer …", X-Gitlab-Token or a X-Hub-Signature-256 of the body.' } });
      return;
    }
    const repos = await deps.refresh();
    deps.log(`labs hook: ${repos.map((r) => `${r.repo} ${r.status}`).join(', ') || 'no LABS_REPOS'}`);
    res.status(repos.some((r) => r.status === 'failed') ? 502 : 200).json({ ok: repos.every((r) => r.status !== 'failed'), repos });
  });
  return router;
}
