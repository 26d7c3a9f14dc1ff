// Who may reach a session besides its owner: share links and ssh credentials, behind one async
// interface. SQLite (beside the sessions in the same file) or PostgreSQL (DATABASE_URL), so a link
// stays valid across a server restart, as the session it shares does, and every replica sees a
// revocation at once. Only digests of tokens are stored (tokens.ts).
import { isPostgresUrl } from '../sessions/store.ts';
import type { ShareMode } from '../protocol/access.ts';

export type { ShareMode };

export interface ShareLink {
  id: string;
  sessionId: string;
  mode: ShareMode;
  createdAt: number;
}

export interface SshKey {
  sessionId: string;
  /** SHA256:… as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** The one-line OpenSSH form (type, base64, comment). */
  publicKey: string;
  comment: string;
  addedAt: number;
}

export interface AccessStore {
  addShare(link: ShareLink, tokenHash: string): Promise<void>;
  /** The live link with this token digest. */
  shareByHash(tokenHash: string): Promise<ShareLink | undefined>;
  shares(sessionId: string): Promise<ShareLink[]>;
  /** True when the link existed (and is now gone). */
  removeShare(sessionId: string, id: string): Promise<boolean>;
  addSshToken(sessionId: string, tokenHash: string, expiresAt: number): Promise<void>;
  /** Uses up a one-time token: true only for the first taker, only for its own session, only before it expires. */
  takeSshToken(sessionId: string, tokenHash: string, now: number): Promise<boolean>;
  /** Tokens not used and not expired. */
  sshTokenCount(sessionId: string, now: number): Promise<number>;
  addSshKey(key: SshKey): Promise<void>;
  sshKeys(sessionId: string): Promise<SshKey[]>;
  removeSshKey(sessionId: string, fingerprint: string): Promise<boolean>;
  /** The session ended: every link, token and key of it goes. */
  forgetSession(sessionId: string): Promise<void>;
  /** Removes what belongs to sessions that are no longer live (after a restart, or ended elsewhere). */
  forgetAllBut(liveSessionIds: string[]): Promise<number>;
  close(): Promise<void>;
}

export interface ShareRow { id: string; session_id: string; mode: string; created_at: number }
export interface KeyRow { session_id: string; fingerprint: string; public_key: string; comment: string; added_at: number }

export const toShare = (r: ShareRow): ShareLink => ({ id: r.id, sessionId: r.session_id, mode: r.mode as ShareMode, createdAt: Number(r.created_at) });
export const toKey = (r: KeyRow): SshKey => ({ sessionId: r.session_id, fingerprint: r.fingerprint, publicKey: r.public_key, comment: r.comment, addedAt: Number(r.added_at) });

/** A PostgreSQL URL opens PostgreSQL; anything else is a SQLite file (or ':memory:'). */
export async function openAccessStore(target: string): Promise<AccessStore> {
  if (isPostgresUrl(target)) return (await import('./pg-access-store.ts')).openPgAccessStore(target);
  return (await import('./sqlite-access-store.ts')).openSqliteAccessStore(target);
}
