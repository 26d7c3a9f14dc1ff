// The socket.io event maps shared by server/ and web/. Types only: imported by both sides.

export interface ErrorInfo { code: string; message: string }
export type Ack<T> = (res: { ok: true; value: T } | { ok: false; error: ErrorInfo }) => void;

export type CheckStatusValue = 'pending' | 'pass' | 'fail';

export interface CheckView {
  id: string;
  stepId: string;
  status: CheckStatusValue;
  message: string;
  actual?: string;
  expected?: string;
}

/** What the lab page is rendered with (a JSON block in the page), read by the web app. */
export interface LabBoot {
  labId: string;
  title: string;
  terms: number;
  steps: { id: string; title: string; checks: string[] }[];
  progress: CheckView[];
  maxPasteBytes: number;
  /** Largest single upload (drag and drop onto a terminal or the file tree). */
  maxUploadBytes?: number;
  /** The learner's values of the lab's variables ($$name$$), defaults where unset; absent without variables. */
  variables?: Record<string, string>;
}

/** What the playground page (/play) is rendered with; shaped like LabBoot so the Files tab takes it. */
export interface PlayBoot {
  labId: string;
  title: string;
  /** For the Files tab: node numbers go up to this. */
  terms: number;
  maxNodes: number;
  maxPasteBytes: number;
  maxUploadBytes?: number;
  /** A stack to deploy once the first node is ready ("Try it" links), as the server accepted it. */
  stack?: { source: string; name: string; mode: 'compose' | 'swarm' };
  /** Why the link's stack was refused, shown on the page (the playground still opens). */
  stackError?: string;
  steps: [];
  progress: [];
}

export type SessionPhase = 'queued' | 'starting' | 'ready' | 'expired' | 'ended' | 'failed';

export interface SessionView {
  id: string;
  labId: string;
  phase: SessionPhase;
  terms: number;
  /** Epoch ms. */
  expiresAt: number;
  /** Server clock at the time of sending, so the page's countdown ignores client clock skew. */
  serverNow: number;
  /** 1-based, when queued. */
  queuePosition?: number;
  queueLength?: number;
  message?: string;
  canExtend: boolean;
  /** Playground only: its nodes now (node numbers), and the most it may have. */
  nodes?: number[];
  maxNodes?: number;
}

export type TermState = 'starting' | 'ready' | 'reconnecting' | 'exited' | 'failed';

export interface ClientToServer {
  'session:join': (req: { labId: string }, ack: Ack<{ session: SessionView; checks: CheckView[]; variables: Record<string, string> }>) => void;
  /** Sets the learner's values of some of a lab's variables; answered with all of them. */
  'vars:set': (req: { labId: string; values: Record<string, string> }, ack: Ack<Record<string, string>>) => void;
  'session:extend': (req: Record<string, never>, ack: Ack<SessionView>) => void;
  'session:end': (req: Record<string, never>, ack: Ack<SessionView>) => void;
  /** Keystrokes or a piece of a paste; at most TUNING.maxInputChunk chars. */
  'term:input': (req: { term: number; data: string }) => void;
  'term:resize': (req: { term: number; cols: number; rows: number }) => void;
  /** The browser has rendered this many more chars of the terminal's output. */
  'term:ack': (req: { term: number; chars: number }) => void;
  'checks:run': (req: { stepId: string }, ack: Ack<CheckView[]>) => void;
  /** The learner clicked a block of this step (so its checks' failures are now worth showing). */
  'block:ran': (req: { stepId: string }) => void;
  /** Run this step's set-up (an imported lab's scripts) before its first block; answered when done. */
  'step:setup': (req: { stepId: string }, ack: Ack<{ ok: boolean; message?: string }>) => void;
  /** Playground: one more node; one node fewer; a swarm template (see server/playground). */
  'play:add': (req: Record<string, never>, ack: Ack<SessionView>) => void;
  'play:remove': (req: { node: number }, ack: Ack<SessionView>) => void;
  'play:template': (req: { template: string }, ack: Ack<{ nodes: string }>) => void;
  /** Deploys the stack this learner's /play?stack=… link brought (once). */
  'play:deploy': (req: Record<string, never>, ack: Ack<{ output: string }>) => void;
}

/** One playground node's figures, about every 2 s. */
export interface NodeStats {
  node: number;
  /** Percent of one CPU (can pass 100 with several cores). */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  /** The sandbox disk (its /var/lib/docker); absent when it could not be read. */
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  /** TCP ports it listens on. */
  ports: number[];
}

export interface ServerToClient {
  'session:update': (s: SessionView) => void;
  'term:state': (t: { term: number; state: TermState; message?: string }) => void;
  /** Replaces the screen: recent scrollback after a reload or reconnect. */
  'term:replay': (t: { term: number; data: string }) => void;
  'term:data': (t: { term: number; data: string }) => void;
  'check:update': (c: CheckView[]) => void;
  'notice': (n: { level: 'info' | 'warn' | 'error'; message: string }) => void;
  /** The learner set variables in another tab (or another replica's page). */
  'vars:update': (v: { labId: string; values: Record<string, string> }) => void;
  /** Playground: what a template or a deploy is doing now. */
  'play:progress': (p: { message: string; state: 'running' | 'done' | 'failed' }) => void;
  'play:stats': (s: NodeStats[]) => void;
  /** An author saved a new version of this lab. */
  'lab:changed': (c: { labId: string }) => void;
}
