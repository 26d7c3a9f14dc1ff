// One ready session's live parts on this replica: a terminal per sandbox (with its scrollback
// file) and the check runner that watches the first sandbox. The manager starts one when the
// sandboxes are ready (or re-attached) and disposes it when the session ends or is reset.
import type { SandboxRef } from '../../sandbox/driver/types.ts';
import type { Lab } from '../labs/types.ts';
import type { CheckView } from '../protocol/realtime.ts';
import { TUNING } from '../config.ts';
import { Terminal, type PtyProcess } from '../terminals/terminal.ts';
import { openScrollbackFile } from '../terminals/scrollback-file.ts';
import type { CheckRunner, CheckService } from './types.ts';
import type { Timers } from '../timers.ts';
import { promptCameBack } from './prompt.ts';

export interface SessionRuntime {
  terminal(node: number): Terminal | undefined;
  /** A playground node came or went: its terminal starts or stops. */
  addNode(ref: SandboxRef): void;
  removeNode(node: number): void;
  /** Undefined when the lab has no checks and no set-up. */
  readonly runner: CheckRunner | undefined;
  dispose(): void;
}

export function createSessionRuntime(deps: {
  sessionId: string;
  lab: Lab;
  refs: SandboxRef[];
  /** How each sandbox's terminal reaches its shell. */
  wire(ref: SandboxRef): { spawn(cols: number, rows: number): PtyProcess; ensureShell(): Promise<void> };
  scrollbackFile(node: number): string;
  checks: CheckService;
  /** The terminals' clock and timers (output batching, re-attach back-off). */
  timers: Timers;
  /** Checks that passed before (they stay passed). */
  passed: Iterable<string>;
  /** Stores results; resolves with what was kept (a pass is never downgraded). */
  record(views: CheckView[]): Promise<CheckView[]>;
  terminalBytes?(n: number): void;
  terminalEcho?(ms: number): void;
  log(msg: string, err?: unknown): void;
}): SessionRuntime {
  const { sessionId: sid, log } = deps;
  const terminals = new Map<number, Terminal>();
  let runner: CheckRunner | undefined;
  const open = (ref: SandboxRef) => {
    const wire = deps.wire(ref);
    const t = new Terminal({
      spawn: (cols, rows) => wire.spawn(cols, rows),
      ensureShell: () => wire.ensureShell(),
      scrollback: openScrollbackFile(deps.scrollbackFile(ref.node), TUNING.scrollbackBytes),
      onOutput: (d) => {
        deps.terminalBytes?.(Buffer.byteLength(d));
        if (promptCameBack(d)) runner?.poke();
      },
      onEcho: (ms) => deps.terminalEcho?.(ms),
      log: (m, e) => log(`session ${sid} sandbox ${ref.id} term ${ref.node}: ${m}`, e),
      timers: deps.timers,
    });
    terminals.set(ref.node, t);
    t.start();
  };
  for (const ref of deps.refs) open(ref);
  const first = deps.refs[0];
  // A lab with set-up scripts but no checks still needs the runner: it runs the set-up.
  if (first && deps.lab.steps.some((s) => s.checks.length > 0 || s.setup?.length)) {
    const passed = new Set(deps.passed);
    runner = deps.checks.start({
      lab: deps.lab,
      refs: deps.refs,
      isPassed: (id) => passed.has(id),
      onResults: (views) => {
        void deps.record(views).then(
          (merged) => merged.forEach((v) => v.status === 'pass' && passed.add(v.id)),
          (err) => log(`session ${sid}: recording check results failed`, err),
        );
      },
    });
  }
  return {
    terminal: (node) => terminals.get(node),
    addNode: (ref) => {
      if (!terminals.has(ref.node)) open(ref);
    },
    removeNode: (node) => {
      terminals.get(node)?.dispose();
      terminals.delete(node);
    },
    get runner() {
      return runner;
    },
    dispose() {
      runner?.dispose();
      runner = undefined;
      for (const t of terminals.values()) t.dispose();
      terminals.clear();
    },
  };
}
