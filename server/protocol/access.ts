// The /access socket.io namespace (share links, who is in, ssh credentials), shared by server/ and web/. Types only.
import type { Ack, TermState } from './realtime.ts';

export type ShareMode = 'read-only' | 'read-write';

export interface ShareLinkView { id: string; mode: ShareMode; createdAt: number }
export interface VisitorView { id: string; kind: 'guest' | 'ssh'; label: string; mode: ShareMode; node?: number; since: number }
export interface SshKeyView { fingerprint: string; comment: string; addedAt: number }

/** What the owner's page shows: links, who is in, keys; how to reach the ssh server (null: off). */
export interface AccessStateView {
  shares: ShareLinkView[];
  visitors: VisitorView[];
  sshKeys: SshKeyView[];
  ssh: { port: number } | null;
}

/** What a guest's page is rendered with (a JSON block in the page). */
export interface GuestBoot {
  token: string;
  title: string;
  mode: ShareMode;
  nodes: number[];
  maxPasteBytes: number;
}

export interface AccessClientToServer {
  // The owner (learner cookie) of `sessionId`:
  'access:open': (req: { sessionId: string }, ack: Ack<AccessStateView>) => void;
  'share:create': (req: { sessionId: string; mode: ShareMode }, ack: Ack<{ link: ShareLinkView; path: string }>) => void;
  'share:revoke': (req: { sessionId: string; id: string }, ack: Ack<null>) => void;
  'ssh:token': (req: { sessionId: string }, ack: Ack<{ token: string; expiresAt: number; user: string; port: number }>) => void;
  'ssh:key:add': (req: { sessionId: string; key: string }, ack: Ack<{ fingerprint: string }>) => void;
  'ssh:key:remove': (req: { sessionId: string; fingerprint: string }, ack: Ack<null>) => void;
  'visitor:disconnect': (req: { sessionId: string; id: string }, ack: Ack<null>) => void;
  // A guest (auth: { share: token }):
  'guest:join': (req: Record<string, never>, ack: Ack<{ title: string; mode: ShareMode; nodes: number[] }>) => void;
  'guest:name': (req: { name: string }) => void;
  'term:input': (req: { term: number; data: string }) => void;
  'term:ack': (req: { term: number; chars: number }) => void;
}

export interface AccessServerToClient {
  'access:state': (s: AccessStateView) => void;
  'guest:nodes': (n: { nodes: number[] }) => void;
  /** The link was revoked or the session ended: the connection closes right after. */
  'guest:ended': (e: { message: string }) => void;
  'term:state': (t: { term: number; state: TermState; message?: string }) => void;
  'term:replay': (t: { term: number; data: string }) => void;
  'term:data': (t: { term: number; data: string }) => void;
  'notice': (n: { level: 'info' | 'warn' | 'error'; message: string }) => void;
}
