// `npm run test:hosts -- [--case N] [--keep] [--skip-tests] [--steps a,b] | --exec CMD | --sync | --stop`
// Pure: argv in, options out.
import { parseArgs } from 'node:util';
import { CASES } from './cases.ts';

export const STEPS = ['facts', 'start', 'learner', 'limits', 'routes', 'verify'] as const;

export type HostTestOptions =
  | { mode: 'run'; cases: number[]; keep: boolean; skipTests: boolean; steps: string[]; reuse: boolean }
  | { mode: 'exec'; command: string }
  | { mode: 'sync' }
  | { mode: 'stop' }
  | { mode: 'help' };

export const USAGE = `usage: npm run test:hosts -- [--case N] [--keep] [--skip-tests] [--steps LIST]
       npm run test:hosts -- --exec 'CMD'     run CMD in the kept VM (cwd: the project copy), print its output
       npm run test:hosts -- --sync           copy this working tree into the kept VM again
       npm run test:hosts -- --stop           power off the kept VM
  --case N        one case only (${CASES.map((c) => `${c.n}: ${c.title}`).join('; ')})
  --keep          leave the (last) VM running afterwards and print how to reach it
  --skip-tests    boot with the project and images in place, measure nothing (implies --keep)
  --steps LIST    only these measurements, comma-separated: ${STEPS.join(',')}
  --reuse         measure in the kept VM (re-synced, set up for the case) instead of booting a new one; it stays kept`;

export class UsageError extends Error {}

export function parseHostTestArgs(argv: readonly string[]): HostTestOptions {
  let v;
  try {
    ({ values: v } = parseArgs({
      args: [...argv],
      options: {
        case: { type: 'string', multiple: true },
        keep: { type: 'boolean' },
        'skip-tests': { type: 'boolean' },
        steps: { type: 'string' },
        reuse: { type: 'boolean' },
        exec: { type: 'string' },
        sync: { type: 'boolean' },
        stop: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (v.help) return { mode: 'help' };
  const modes = [v.exec !== undefined, !!v.sync, !!v.stop].filter(Boolean).length;
  if (modes > 1) throw new UsageError('--exec, --sync and --stop are separate commands');
  if (v.exec !== undefined) {
    if (!v.exec.trim()) throw new UsageError('--exec needs a command');
    return { mode: 'exec', command: v.exec };
  }
  if (v.sync) return { mode: 'sync' };
  if (v.stop) return { mode: 'stop' };
  const cases = (v.case ?? CASES.map((c) => String(c.n))).map((s) => {
    const n = Number(s);
    if (!CASES.some((c) => c.n === n)) throw new UsageError(`--case ${s}: no such case (have ${CASES.map((c) => c.n).join(', ')})`);
    return n;
  });
  const steps = v.steps ? v.steps.split(',').map((s) => s.trim()).filter(Boolean) : [...STEPS];
  for (const s of steps) if (!(STEPS as readonly string[]).includes(s)) throw new UsageError(`--steps: unknown step "${s}" (have ${STEPS.join(',')})`);
  if (steps.includes('learner') && !steps.includes('start')) throw new UsageError('--steps: learner needs start (it talks to the server npm start runs)');
  const skipTests = !!v['skip-tests'];
  const reuse = !!v.reuse;
  if (reuse && cases.length !== 1) throw new UsageError('--reuse measures one case: add --case N');
  return { mode: 'run', cases: [...new Set(cases)], keep: !!v.keep || skipTests || reuse, skipTests, steps, reuse };
}
