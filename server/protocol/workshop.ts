// The /workshop socket.io namespace and the host page's boot data, shared by server/ and web/.
// Types only, no server-side imports.
import type { Ack } from './realtime.ts';

export interface HostEventBoot {
  eventId: string;
  code: string;
  name: string;
  joinUrl: string;
  labs: { id: string; title: string }[];
}

export interface HintView {
  labId: string;
  stepId: string;
  text: string;
}

export interface WorkshopClientToServer {
  /** Learner: which lab page this is (for hints and "being watched"). */
  'learner:lab': (req: { labId: string }) => void;
  'host:event': (req: { eventId: string }, ack: Ack<GridLab[]>) => void;
  'host:watch': (req: { learnerId: string; labId: string; node?: number }, ack: Ack<{ title: string }>) => void;
  'host:unwatch': () => void;
  'host:ack': (req: { chars: number }) => void;
  'host:reset': (req: { learnerId: string; labId: string }, ack: Ack<{ phase: string }>) => void;
  'host:broadcast': (req: { eventId: string; text: string }, ack: Ack<{ sent: number }>) => void;
}

export interface WorkshopServerToClient {
  'workshop:message': (m: { eventId: string; eventName: string; text: string; at: number }) => void;
  'workshop:watched': (w: { labId: string; watched: boolean }) => void;
  'workshop:notice': (n: { message: string }) => void;
  'workshop:hint': (h: HintView) => void;
  'workshop:grid': (g: GridLab[]) => void;
  'watch:replay': (d: { data: string }) => void;
  'watch:data': (d: { data: string }) => void;
  'watch:state': (s: { state: string; message?: string }) => void;
}

// ---- the instructor's grid ----------------------------------------------------------------------

export type CellStatus = 'pass' | 'fail' | 'pending' | 'none';

export interface GridCell {
  stepId: string;
  status: CellStatus;
  /** Why it fails, when it does. */
  message?: string;
}

export interface GridRow {
  learnerId: string;
  name: string;
  /** The live session's phase, or "not started". */
  phase: string;
  sessionId?: string;
  cells: GridCell[];
  /** Minutes since the last pass (or since the session started), while steps remain; null when done or not started. */
  stuckMinutes: number | null;
  passedSteps: number;
}

export interface GridLab {
  labId: string;
  title: string;
  steps: { id: string; title: string; checks: number }[];
  rows: GridRow[];
}
