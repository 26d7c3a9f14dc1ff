// The narrow view of sessions that share links and ssh need, whatever made the session (a lab, or a
// playground): who owns it, which nodes it has, and each node's shared terminal. The adapter over
// the session manager is the only place that knows the manager.
import type { SessionManager } from '../sessions/manager.ts';
import type { Viewer } from '../terminals/terminal.ts';
import type { SessionPhase } from '../protocol/realtime.ts';
import type { ExecResult, SandboxDriver } from '../../sandbox/driver/types.ts';

/** What a guest or an ssh login does with a node's terminal (server/terminals/terminal.ts has it all). */
export interface SharedTerminal {
  addViewer(v: Viewer): void;
  removeViewer(id: string): void;
  input(data: string): void;
  resize(cols: number, rows: number): void;
  ack(viewerId: string, chars: number): void;
}

export interface SessionInfo {
  id: string;
  ownerId: string;
  title: string;
  phase: SessionPhase;
  /** Nodes with a terminal now (node1…nodeN; a playground may add and remove them). */
  nodes: number[];
}

export interface SessionPort {
  /** The session while it is live on this replica. */
  info(sessionId: string): SessionInfo | undefined;
  terminal(sessionId: string, node: number): SharedTerminal | undefined;
  /** Called at every change of the session (phase, nodes); with undefined once it ended. */
  watch(sessionId: string, fn: (info: SessionInfo | undefined) => void): () => void;
  /** Runs one command line in the node's shell environment (the learner's world), output collected. */
  exec(sessionId: string, node: number, command: string): Promise<ExecResult>;
}

/** `ssh … <command>`: bounded like a check's exec, longer since a learner may start a build. */
const EXEC = { timeoutMs: 120_000, maxOutputBytes: 1 << 20 } as const;

/** Terminals are probed up to this node number (labs have at most 6, a playground a few more). */
const MAX_NODE = 16;
const LIVE = new Set<SessionPhase>(['queued', 'starting', 'ready']);

export function sessionPortOf(sessions: SessionManager, driver: Pick<SandboxDriver, 'exec'>, titleOf: (labId: string) => string | undefined): SessionPort {
  const info = (sid: string): SessionInfo | undefined => {
    const rec = sessions.liveSessions().find((r) => r.id === sid);
    if (!rec || !LIVE.has(rec.phase)) return undefined;
    const nodes: number[] = [];
    for (let n = 1; n <= MAX_NODE; n++) if (sessions.terminal(sid, n)) nodes.push(n);
    return { id: sid, ownerId: rec.learnerId, title: titleOf(rec.labId) ?? rec.labId, phase: rec.phase, nodes };
  };
  return {
    info,
    terminal: (sid, node) => (Number.isInteger(node) && node >= 1 && node <= MAX_NODE ? sessions.terminal(sid, node) : undefined),
    watch(sid, fn) {
      return sessions.subscribe(sid, {
        // The terminals of a session that just became ready are there when its update is sent.
        update: (v) => fn(LIVE.has(v.phase) ? info(sid) : undefined),
        checks: () => {},
      });
    },
    async exec(sid, node, command) {
      const rec = sessions.liveSessions().find((r) => r.id === sid);
      const ref = rec && sessions.sandboxFor(rec.learnerId, rec.labId, node);
      if (!ref) throw new Error(`node${node} of this session is not running`);
      // world: the learner's own view, through the sandbox's boundary, as the shell runs.
      return driver.exec(ref, ['bash', '-lc', command], { ...EXEC, world: true, workdir: '/root' });
    },
  };
}
