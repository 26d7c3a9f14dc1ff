// Share links and ssh credentials of sessions: made and revoked by the session's owner, checked when a
// guest or an ssh login arrives, and all gone when the session ends. The presence list (who is in)
// is kept here too, so the owner's page hears of every change.
import crypto from 'node:crypto';
import { AppError } from '../errors.ts';
import type { AccessStore, ShareLink, ShareMode, SshKey } from './access-store.ts';
import { Presence, type Visitor, type VisitorView } from './presence.ts';
import type { SessionInfo, SessionPort } from './session-port.ts';
import { hashToken, looksLikeToken, newToken } from './tokens.ts';
import { parsePublicKey, type PublicKeyLine } from '../ssh/ssh-keys.ts';

export const ACCESS_LIMITS = {
  /** Live share links per session: enough for a room of helpers; past it, revoke some. */
  sharesPerSession: 20,
  /** Unused ssh tokens per session. */
  sshTokensPerSession: 10,
  /** A one-time ssh token is good for this long. */
  sshTokenTtlMs: 10 * 60_000,
  sshKeysPerSession: 10,
} as const;

export interface AccessState {
  shares: ShareLink[];
  visitors: VisitorView[];
  sshKeys: Pick<SshKey, 'fingerprint' | 'comment' | 'addedAt'>[];
}

export interface AccessServiceDeps {
  store: AccessStore;
  sessions: SessionPort;
  now(): number;
  log(msg: string, err?: unknown): void;
}

const ENDED = 'The session you were in has ended.';
const REVOKED = 'The owner revoked this share link.';

export class AccessService {
  readonly presence: Presence;
  private readonly listeners = new Set<(sessionId: string) => void>();
  /** Sessions whose end this replica is watching (they have links, tokens, keys or visitors). */
  private readonly watched = new Map<string, () => void>();

  constructor(private readonly deps: AccessServiceDeps) {
    this.presence = new Presence((sid) => this.changed(sid));
  }

  /** The owner's pages listen to this (their list of links and visitors). */
  onChange(fn: (sessionId: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The session if `learnerId` owns it and it is live here; a clear error otherwise. */
  ownSession(learnerId: string, sessionId: unknown): SessionInfo {
    const info = typeof sessionId === 'string' ? this.deps.sessions.info(sessionId) : undefined;
    if (!info || info.ownerId !== learnerId) throw new AppError('forbidden', 'Only the owner of a running session can share it. Reload the page if your session has just started.');
    return info;
  }

  async state(sessionId: string): Promise<AccessState> {
    const [shares, keys] = await Promise.all([this.deps.store.shares(sessionId), this.deps.store.sshKeys(sessionId)]);
    return { shares, visitors: this.presence.of(sessionId), sshKeys: keys.map(({ fingerprint, comment, addedAt }) => ({ fingerprint, comment, addedAt })) };
  }

  async createShare(learnerId: string, sessionId: string, mode: unknown): Promise<{ link: ShareLink; token: string }> {
    if (mode !== 'read-only' && mode !== 'read-write') throw new AppError('bad_request', 'A share link is read-only or read-write.');
    const info = this.ownSession(learnerId, sessionId);
    if ((await this.deps.store.shares(info.id)).length >= ACCESS_LIMITS.sharesPerSession) {
      throw new AppError('rate_limited', `This session already has ${ACCESS_LIMITS.sharesPerSession} share links; revoke some first.`);
    }
    const token = newToken();
    const link: ShareLink = { id: crypto.randomBytes(6).toString('hex'), sessionId: info.id, mode, createdAt: this.deps.now() };
    await this.deps.store.addShare(link, hashToken(token));
    this.watchEnd(info.id);
    this.changed(info.id);
    return { link, token };
  }

  /** Revokes at once: the link stops working and everyone who came by it is sent away. */
  async revokeShare(learnerId: string, sessionId: string, linkId: unknown): Promise<void> {
    const info = this.ownSession(learnerId, sessionId);
    if (typeof linkId !== 'string' || !(await this.deps.store.removeShare(info.id, linkId))) throw new AppError('not_found', 'That share link is already gone.');
    this.presence.kick((v) => v.linkId === linkId, REVOKED);
    this.changed(info.id);
  }

  /** The link a guest's token opens, with its session; a sentence saying why not otherwise. */
  async openShare(token: unknown): Promise<{ link: ShareLink; session: SessionInfo }> {
    const gone = new AppError('not_found', 'This share link does not work (any more): it was revoked, or the session it shared has ended. Ask its owner for a new one.');
    if (!looksLikeToken(token)) throw gone;
    const link = await this.deps.store.shareByHash(hashToken(token));
    if (!link) throw gone;
    const session = this.deps.sessions.info(link.sessionId);
    if (!session) throw new AppError('not_found', 'The session this link shares is not running on this server (it has ended, or another replica serves it).');
    this.watchEnd(link.sessionId);
    return { link, session };
  }

  async newSshToken(learnerId: string, sessionId: string): Promise<{ token: string; expiresAt: number }> {
    const info = this.ownSession(learnerId, sessionId);
    const now = this.deps.now();
    if ((await this.deps.store.sshTokenCount(info.id, now)) >= ACCESS_LIMITS.sshTokensPerSession) {
      throw new AppError('rate_limited', `This session has ${ACCESS_LIMITS.sshTokensPerSession} unused ssh tokens; use one, or wait until they expire (10 minutes).`);
    }
    const token = newToken();
    const expiresAt = now + ACCESS_LIMITS.sshTokenTtlMs;
    await this.deps.store.addSshToken(info.id, hashToken(token), expiresAt);
    this.watchEnd(info.id);
    return { token, expiresAt };
  }

  /** A login with a one-time token: true once, for the session it was made for. */
  async takeSshToken(sessionId: string, token: string): Promise<boolean> {
    if (!looksLikeToken(token) || !this.deps.sessions.info(sessionId)) return false;
    return this.deps.store.takeSshToken(sessionId, hashToken(token), this.deps.now());
  }

  async addSshKey(learnerId: string, sessionId: string, text: unknown): Promise<PublicKeyLine> {
    const info = this.ownSession(learnerId, sessionId);
    const key = parsePublicKey(text);
    const have = await this.deps.store.sshKeys(info.id);
    if (have.length >= ACCESS_LIMITS.sshKeysPerSession && !have.some((k) => k.fingerprint === key.fingerprint)) {
      throw new AppError('rate_limited', `This session already has ${ACCESS_LIMITS.sshKeysPerSession} keys; remove one first.`);
    }
    await this.deps.store.addSshKey({ sessionId: info.id, ...key, addedAt: this.deps.now() });
    this.watchEnd(info.id);
    this.changed(info.id);
    return key;
  }

  async removeSshKey(learnerId: string, sessionId: string, fingerprint: unknown): Promise<void> {
    const info = this.ownSession(learnerId, sessionId);
    if (typeof fingerprint !== 'string' || !(await this.deps.store.removeSshKey(info.id, fingerprint))) throw new AppError('not_found', 'That key is already gone.');
    this.changed(info.id);
  }

  /** The keys that may log in to this session (only this session's). */
  sshKeys(sessionId: string): Promise<SshKey[]> {
    return this.deps.sessions.info(sessionId) ? this.deps.store.sshKeys(sessionId) : Promise.resolve([]);
  }

  /** Sends one visitor away (the owner's "Disconnect"). */
  disconnect(learnerId: string, sessionId: string, visitorId: unknown): void {
    const info = this.ownSession(learnerId, sessionId);
    if (!this.presence.kick((v) => v.sessionId === info.id && v.id === visitorId, 'The owner disconnected you.')) throw new AppError('not_found', 'That visitor has already left.');
  }

  /** Registers a guest or an ssh login; returns its removal. */
  enter(v: Visitor): () => void {
    this.watchEnd(v.sessionId);
    return this.presence.add(v);
  }

  /** Drops what belongs to sessions no longer live anywhere (`live`: the shared store's live ids). */
  async sweep(live: string[]): Promise<void> {
    const keep = new Set(live);
    const n = await this.deps.store.forgetAllBut(live);
    for (const sid of [...this.watched.keys()]) if (!keep.has(sid)) this.ended(sid);
    if (n) this.deps.log(`access: forgot the links and ssh credentials of ${n} ended session(s)`);
  }

  dispose(): void {
    for (const stop of this.watched.values()) stop();
    this.watched.clear();
    this.listeners.clear();
  }

  private watchEnd(sid: string): void {
    if (this.watched.has(sid)) return;
    const stop = this.deps.sessions.watch(sid, (info) => {
      if (info) this.changed(sid);
      else this.ended(sid);
    });
    this.watched.set(sid, stop);
  }

  /** The session ended: its links, tokens and keys go, and everyone in it is sent away. */
  private ended(sid: string): void {
    this.watched.get(sid)?.();
    this.watched.delete(sid);
    this.presence.kick((v) => v.sessionId === sid, ENDED);
    this.deps.store.forgetSession(sid).catch((err) => this.deps.log(`access: could not forget session ${sid}'s links (the sweep will)`, err));
    this.changed(sid);
  }

  private changed(sid: string): void {
    for (const fn of this.listeners) fn(sid);
  }
}
