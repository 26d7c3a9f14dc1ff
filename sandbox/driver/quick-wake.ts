// A short scheduler slice for this process's main thread (sandbox/image/quick-wake.sh says why and
// how; the sandboxes' shells get the same inside). Read back from /proc, so the start-up line says
// what the kernel really did.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './command-runner.ts';

const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../image/quick-wake.sh');

/** The task's slice in ns (/proc/<pid>/sched), or undefined where the kernel does not show it. */
export function readSlice(pid: number): number | undefined {
  try {
    const m = /^se\.slice\s*:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/sched`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Gives `pid` the short slice; resolves with the start-up line. */
export async function quickWake(pid: number, who = "the server's main thread"): Promise<string> {
  const before = readSlice(pid);
  const r = await runCommand('sh', [SCRIPT, '-p', String(pid)], { timeoutMs: 10_000 });
  const after = readSlice(pid);
  if (r.code === 0 && after !== undefined && before !== undefined && after < before) {
    return `scheduler: ${who} has a ${after / 1e6} ms slice (default ${before / 1e6} ms): it runs first when it wakes on a busy host, as the sandboxes' shells do (QUICK_WAKE=0 turns it off)`;
  }
  const why = r.code !== 0 ? 'the kernel refused a custom slice (Linux 6.12+ has them)' : after === undefined ? 'the kernel does not show slices' : 'the slice did not change (Linux 6.12+ has custom slices)';
  return `scheduler: default slices (${why}); on a busy host the server and shells wait their turn like any task`;
}
