// Pure rules of workshop events: what a valid event is, its short code, the instructor's grid of
// learners × steps, and its CSV export. No I/O.
import crypto from 'node:crypto';
import { AppError } from '../errors.ts';
import type { GridCell, GridLab, GridRow } from '../protocol/workshop.ts';
export type { CellStatus, GridCell, GridLab, GridRow } from '../protocol/workshop.ts';

export interface EventInput {
  name: string;
  /** Lab ids, in the order learners do them. */
  labs: string[];
  /** Epoch ms. */
  startsAt: number;
  endsAt: number;
  /** Expected head count: what the pool pre-warms for. */
  expected: number;
  /** Most learners who may join; undefined = no limit. */
  capacity?: number;
}

export interface WorkshopEvent extends EventInput {
  id: string;
  /** Short code to put on a slide (join link /e/<code>). */
  code: string;
  createdAt: number;
}

/** Letters and digits that cannot be mistaken for each other on a projector (no 0/O, 1/I/L). */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function newEventCode(length: number): string {
  const bytes = crypto.randomBytes(length);
  return Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('');
}

function parseTime(name: string, raw: string | number | undefined, now: number): number {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  const s = String(raw ?? '').trim();
  if (!s) throw new AppError('bad_request', `The event needs a ${name} time.`);
  // "+30m" / "+2h": relative to now, handy for scripted set-up.
  const rel = /^\+(\d+)\s*(m|h)$/.exec(s);
  if (rel) return now + Number(rel[1]) * (rel[2] === 'h' ? 3_600_000 : 60_000);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new AppError('bad_request', `The ${name} time "${s}" is not a date and time (use e.g. 2026-05-04T09:00 or +30m).`);
  return t;
}

function parseCount(name: string, raw: unknown, required: boolean): number | undefined {
  const s = String(raw ?? '').trim();
  if (!s) {
    if (required) throw new AppError('bad_request', `The event needs an ${name}.`);
    return undefined;
  }
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new AppError('bad_request', `The ${name} must be a whole number from 1 to 10000, not "${s}".`);
  return n;
}

/** Validates what a host typed (form or CLI) against the labs this server has. */
export function parseEventInput(
  raw: { name?: unknown; labs?: unknown; start?: unknown; end?: unknown; expected?: unknown; capacity?: unknown },
  knownLabs: (id: string) => boolean,
  now: number,
): EventInput {
  const name = String(raw.name ?? '').trim();
  if (!name || name.length > 120) throw new AppError('bad_request', 'The event needs a name of 1 to 120 characters.');
  const labList = Array.isArray(raw.labs) ? raw.labs.map(String) : String(raw.labs ?? '').split(/[\s,]+/);
  const labs = [...new Set(labList.map((l) => l.trim()).filter(Boolean))];
  if (!labs.length) throw new AppError('bad_request', 'The event needs at least one lab.');
  const unknown = labs.filter((l) => !knownLabs(l));
  if (unknown.length) throw new AppError('bad_request', `There is no lab called ${unknown.map((u) => `"${u}"`).join(', ')} on this server.`);
  const startsAt = parseTime('start', raw.start as string, now);
  const endsAt = parseTime('end', raw.end as string, now);
  if (endsAt <= startsAt) throw new AppError('bad_request', 'The event must end after it starts.');
  const expected = parseCount('expected head count', raw.expected, true)!;
  const capacity = parseCount('capacity', raw.capacity, false);
  if (capacity !== undefined && capacity < expected) throw new AppError('bad_request', `The capacity (${capacity}) is below the expected head count (${expected}).`);
  return { name, labs, startsAt, endsAt, expected, capacity };
}

/** A display name as the learner typed it, trimmed to something a grid can show. */
export function cleanDisplayName(raw: unknown): string {
  const s = String(raw ?? '').replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim().slice(0, 40);
  if (!s) throw new AppError('bad_request', 'Type the name you want the host to see.');
  return s;
}

// ---- the instructor's grid ----------------------------------------------------------------------

export interface GridInput {
  lab: { id: string; title: string; steps: { id: string; title: string; checks: string[] }[] };
  participants: { learnerId: string; name: string }[];
  session(learnerId: string): { id: string; phase: string; createdAt: number } | undefined;
  progress(learnerId: string): { id: string; stepId: string; status: string; message: string; updatedAt: number }[];
  now: number;
}

export function gridFor(input: GridInput): GridLab {
  const { lab, now } = input;
  const rows = input.participants.map((p): GridRow => {
    const prog = new Map(input.progress(p.learnerId).map((r) => [r.id, r]));
    const session = input.session(p.learnerId);
    let passedSteps = 0;
    let lastPass = 0;
    for (const r of prog.values()) if (r.status === 'pass') lastPass = Math.max(lastPass, r.updatedAt);
    const cells = lab.steps.map((st): GridCell => {
      if (!st.checks.length) return { stepId: st.id, status: 'none' };
      const rs = st.checks.map((c) => prog.get(c));
      if (rs.every((r) => r?.status === 'pass')) {
        passedSteps++;
        return { stepId: st.id, status: 'pass' };
      }
      const failing = rs.find((r) => r?.status === 'fail');
      if (failing) return { stepId: st.id, status: 'fail', message: failing.message };
      return { stepId: st.id, status: rs.some(Boolean) ? 'pending' : 'none' };
    });
    const checked = lab.steps.filter((s) => s.checks.length).length;
    const started = session !== undefined || prog.size > 0;
    const since = lastPass || session?.createdAt;
    return {
      learnerId: p.learnerId,
      name: p.name,
      phase: session?.phase ?? (started ? 'left' : 'not started'),
      sessionId: session?.id,
      cells,
      stuckMinutes: passedSteps < checked && since && session ? Math.max(0, Math.floor((now - since) / 60_000)) : null,
      passedSteps,
    };
  });
  return { labId: lab.id, title: lab.title, steps: lab.steps.map((s) => ({ id: s.id, title: s.title, checks: s.checks.length })), rows };
}

function csvField(v: unknown): string {
  let s = String(v ?? '');
  // A spreadsheet runs a cell that starts with = + - @ as a formula: learner names are not formulas.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per learner and lab: name, phase, steps passed, minutes stuck, then each step's status. */
export function gridCsv(event: { name: string }, labs: GridLab[]): string {
  const lines: string[] = [];
  const maxSteps = Math.max(0, ...labs.map((l) => l.steps.length));
  lines.push(['event', 'learner', 'lab', 'phase', 'steps_passed', 'steps_total', 'stuck_minutes', ...Array.from({ length: maxSteps }, (_, i) => `step_${i + 1}`)].join(','));
  for (const lab of labs) {
    const total = lab.steps.filter((s) => s.checks > 0).length;
    for (const r of lab.rows) {
      const steps = r.cells.map((c, i) => `${lab.steps[i]!.title}: ${c.status}${c.message ? ` (${c.message})` : ''}`);
      lines.push([event.name, r.name, lab.title, r.phase, r.passedSteps, total, r.stuckMinutes ?? '', ...steps].map(csvField).join(','));
    }
  }
  return lines.join('\r\n') + '\r\n';
}
