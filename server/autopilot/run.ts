// The whole autopilot run over the selected labs, one after another (each build wants both cores).
// Takes its collaborators; the CLI in server/cli/labs-verify.ts is the only caller with real ones.
import fs from 'node:fs/promises';
import type { SandboxDriver } from '../../sandbox/driver/types.ts';
import { evaluateChecks } from '../checks/evaluate.ts';
import { createCheckWatcher } from '../checks/watcher.ts';
import { systemTimers } from '../timers.ts';
import type { Lab } from '../labs/types.ts';
import type { PtyProcess } from '../terminals/terminal.ts';
import type { VerifyOptions } from './args.ts';
import { formatLab, formatTable, secs, summarize } from './report.ts';
import { createSandboxLedger, type SandboxLedger } from './sandboxes.ts';
import { openSandboxShell } from './terminal-shell.ts';
import type { LabReport } from './types.ts';
import { WRONG_VARIANTS } from './variants.ts';
import { verifyLab } from './verify-lab.ts';

export interface RunDeps {
  driver: SandboxDriver;
  loadLabs(dir: string): Promise<{ labs: Lab[] }>;
  spawnPty(socketPath: string, cols: number, rows: number): PtyProcess;
  out(line: string): void;
  /** Progress and the driver's log. */
  err(line: string): void;
  now(): number;
}

export interface VerifyRun {
  /** Resolves with the process exit code: 0 all good, 1 a lab failed, 2 usage or labs folder errors. */
  done: Promise<number>;
  /** Removes every sandbox this run created (for Ctrl-C). */
  abort(): Promise<void>;
}

export function startVerify(opts: VerifyOptions, deps: RunDeps): VerifyRun {
  const ledger: SandboxLedger = createSandboxLedger(deps.driver, (m, e) => deps.err(`labs:verify: ${m}${e ? `: ${(e as Error).message ?? e}` : ''}`));
  let aborted = false;
  const done = (async (): Promise<number> => {
    const t0 = deps.now();
    let labs: Lab[];
    try {
      labs = (await deps.loadLabs(opts.labsDir)).labs;
    } catch (e) {
      deps.err(`labs:verify: cannot read the labs folder "${opts.labsDir}": ${(e as Error).message}`);
      return 2;
    }
    const unknown = opts.labIds.filter((id) => !labs.some((l) => l.id === id));
    if (unknown.length > 0) {
      deps.err(`labs:verify: no lab ${unknown.map((u) => `"${u}"`).join(', ')} in ${opts.labsDir} (there are: ${labs.map((l) => l.id).join(', ')})`);
      return 2;
    }
    const selected = opts.labIds.length ? labs.filter((l) => opts.labIds.includes(l.id)) : labs;
    deps.out(`labs:verify${opts.negative ? ' --negative' : ''}: ${selected.length} lab${selected.length === 1 ? '' : 's'} from ${opts.labsDir}\n`);
    const reports: LabReport[] = [];
    for (const lab of selected) {
      if (aborted) break;
      deps.err(`labs:verify: ${lab.id}…`);
      const r = await verifyLab(lab, {
        sandboxes: ledger,
        openShell: (ref) => openSandboxShell(deps.driver, ref, deps.spawnPty, { log: (m, e) => deps.err(`labs:verify: term ${ref.node}: ${m}${e ? `: ${String(e)}` : ''}`) }),
        checkContext: (ref) => ({
          engine: deps.driver.engine(ref),
          exec: (cmd, o) => deps.driver.exec(ref, cmd, { timeoutMs: o?.timeoutMs }),
          workdir: ref.workdir,
          now: deps.now,
        }),
        evaluate: (specs, ctx) => evaluateChecks(specs, ctx),
        watchChecks: (ctx, pending, onResults) => createCheckWatcher({
          ctx, pendingChecks: pending, onResults,
          onError: (e) => { if (opts.verbose) deps.err(`labs:verify: check watcher: ${e.message}`); },
        }),
        timers: systemTimers,
        now: deps.now,
        progress: opts.verbose ? deps.err : () => {},
      }, { negative: opts.negative, blockTimeoutMs: opts.blockTimeoutMs, settleMs: opts.settleMs, variants: WRONG_VARIANTS });
      reports.push(r);
      deps.out(formatLab(r, { negative: opts.negative, verbose: opts.verbose }) + '\n');
    }
    const ms = deps.now() - t0;
    deps.out(formatTable(['lab', 'result', 'sandbox', 'total'], reports.map((r) => [r.id, r.status.toUpperCase(), secs(r.setupMs), secs(r.ms)])));
    deps.out(`total ${secs(ms)}`);
    const summary = summarize(reports, { negative: opts.negative, ms });
    if (opts.jsonFile) await fs.writeFile(opts.jsonFile, JSON.stringify({ summary, labs: reports }, null, 2) + '\n');
    deps.out(JSON.stringify(summary));
    return summary.ok && !aborted ? 0 : 1;
  })().finally(() => ledger.disposeAll());
  return {
    done,
    async abort() {
      aborted = true;
      await ledger.disposeAll();
    },
  };
}
