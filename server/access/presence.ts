// Who is in a session besides its owner, on this replica: guests on a share link and ssh logins.
// Each entry can be sent away at once (a revoked link, an ended session). Pure bookkeeping.
import type { ShareMode } from './access-store.ts';

export interface VisitorView {
  id: string;
  kind: 'guest' | 'ssh';
  label: string;
  mode: ShareMode;
  /** ssh: the node it logged in to. */
  node?: number;
  since: number;
}

export interface Visitor extends VisitorView {
  sessionId: string;
  /** The share link it came by (guests). */
  linkId?: string;
  /** Ends its connection, telling it why. */
  kick(message: string): void;
}

export class Presence {
  private readonly visitors = new Map<string, Visitor>();
  constructor(private readonly changed: (sessionId: string) => void) {}

  /** Returns the removal (for the connection's close). */
  add(v: Visitor): () => void {
    this.visitors.set(v.id, v);
    this.changed(v.sessionId);
    return () => {
      if (this.visitors.get(v.id) !== v) return;
      this.visitors.delete(v.id);
      this.changed(v.sessionId);
    };
  }

  of(sessionId: string): VisitorView[] {
    return [...this.visitors.values()]
      .filter((v) => v.sessionId === sessionId)
      .map(({ id, kind, label, mode, node, since }) => ({ id, kind, label, mode, node, since }));
  }

  /** A guest said who they are. */
  rename(id: string, label: string): void {
    const v = this.visitors.get(id);
    if (!v) return;
    v.label = label;
    this.changed(v.sessionId);
  }

  count(sessionId: string): number {
    let n = 0;
    for (const v of this.visitors.values()) if (v.sessionId === sessionId) n++;
    return n;
  }

  /** Sends away every visitor that matches; returns how many. */
  kick(match: (v: Visitor) => boolean, message: string): number {
    const gone = [...this.visitors.values()].filter(match);
    for (const v of gone) {
      this.visitors.delete(v.id);
      v.kick(message);
    }
    for (const sid of new Set(gone.map((v) => v.sessionId))) this.changed(sid);
    return gone.length;
  }
}
