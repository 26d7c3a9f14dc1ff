// `labs:verify [lab-id…] [--negative] [--labs DIR] [--data DIR] [--block-timeout SECONDS] [--json FILE] [--verbose]`
// Pure: argv and env in, options out.
import { defaultDataDir } from '../config.ts';
import path from 'node:path';
import { AUTOPILOT } from './tuning.ts';

export interface VerifyOptions {
  labIds: string[];
  labsDir: string;
  dataDir: string;
  negative: boolean;
  blockTimeoutMs: number;
  /** Write the full report (block transcripts included) here. */
  jsonFile?: string;
  verbose: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run labs:verify -- [lab-id…] [--negative] [--labs DIR] [--data DIR] [--block-timeout SECONDS] [--json FILE] [--verbose]
  Types every block of every step into a fresh sandbox and evaluates each step's checks.
  --negative        also prove each step's checks fail without its blocks, and that known-wrong variants are caught
  --labs DIR        labs folder (default: $LABS_DIR or labs/)
  --data DIR        data folder with the shared image templates (default: $DATA_DIR or .data)
  --block-timeout   seconds one block may run (default ${AUTOPILOT.blockTimeoutMs / 1000})
  --json FILE       write the full report, with every block's output, as JSON
  --verbose         print every block's output and the sandbox driver's log`;

const WITH_VALUE = new Set(['labs', 'data', 'block-timeout', 'json']);
const FLAGS = new Set(['negative', 'verbose', 'help']);

export function parseVerifyArgs(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): VerifyOptions | 'help' {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  const labIds: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') return 'help';
    if (!a.startsWith('--')) {
      labIds.push(a.replace(/\/+$/, '').split('/').pop()!); // "labs/03-multi-stage/" works too
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (FLAGS.has(name) && eq === -1) {
      flags.add(name);
    } else if (WITH_VALUE.has(name)) {
      const v = eq === -1 ? argv[++i] : a.slice(eq + 1);
      if (v === undefined || v === '') throw new UsageError(`--${name} needs a value`);
      values[name] = v;
    } else {
      throw new UsageError(`unknown option ${a}`);
    }
  }
  if (flags.has('help')) return 'help';
  let blockTimeoutMs: number = AUTOPILOT.blockTimeoutMs;
  if (values['block-timeout'] !== undefined) {
    const n = Number(values['block-timeout']);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--block-timeout must be a positive number of seconds, got "${values['block-timeout']}"`);
    blockTimeoutMs = Math.round(n * 1000);
  }
  const opts: VerifyOptions = {
    labIds: [...new Set(labIds)],
    labsDir: path.resolve(cwd, values['labs'] ?? env.LABS_DIR ?? 'labs'),
    dataDir: values['data'] ?? env.DATA_DIR ? path.resolve(cwd, (values['data'] ?? env.DATA_DIR)!) : defaultDataDir(cwd),
    negative: flags.has('negative'),
    blockTimeoutMs,
    verbose: flags.has('verbose'),
  };
  if (values['json'] !== undefined) opts.jsonFile = path.resolve(cwd, values['json']);
  return opts;
}
