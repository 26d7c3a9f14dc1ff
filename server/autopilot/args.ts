// `labs:verify [lab-id…] [--negative] [--labs DIR] [--data DIR] [--block-timeout SECONDS] [--settle SECONDS] [--json FILE] [--verbose]`
// Pure: argv and env in, options out; node:util's parseArgs does the parsing.
import { argsErrorMessage, defaultDataDir } from '../config.ts';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AUTOPILOT } from './tuning.ts';

export interface VerifyOptions {
  labIds: string[];
  labsDir: string;
  dataDir: string;
  negative: boolean;
  blockTimeoutMs: number;
  /** Default settle time of a check that fails right after its blocks (a check's `within:` overrides it). */
  settleMs: number;
  /** Write the full report (block transcripts included) here. */
  jsonFile?: string;
  verbose: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run labs:verify -- [lab-id…] [--negative] [--labs DIR] [--data DIR] [--block-timeout SECONDS] [--settle SECONDS] [--json FILE] [--verbose]
  Types every block of every step into a fresh sandbox and evaluates each step's checks.
  --negative        also prove each step's checks fail without its blocks, and that known-wrong variants are caught
  --labs DIR        labs folder (default: $LABS_DIR or labs/)
  --data DIR        data folder with the shared image templates (default: $DATA_DIR or .data)
  --block-timeout   seconds one block may run (default ${AUTOPILOT.blockTimeoutMs / 1000})
  --settle SECONDS  how long a check that fails after its step's blocks is re-evaluated on engine events
                    before it counts as failed, unless it says within: (default ${AUTOPILOT.settleMs / 1000}; 0 judges at once)
  --json FILE       write the full report, with every block's output, as JSON
  --verbose         print every block's output and the sandbox driver's log`;

const OPTIONS = {
  labs: { type: 'string' },
  data: { type: 'string' },
  'block-timeout': { type: 'string' },
  settle: { type: 'string' },
  json: { type: 'string' },
  negative: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseVerifyArgs(argv: readonly string[], env: Record<string, string | undefined>, cwd: string): VerifyOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(argsErrorMessage(err));
  }
  const { values: v, positionals } = parsed;
  const values: Record<string, string | undefined> = { labs: v.labs, data: v.data, 'block-timeout': v['block-timeout'], settle: v.settle, json: v.json };
  for (const [name, value] of Object.entries(values)) if (value === '') throw new UsageError(`--${name} needs a value`);
  const flags = new Set(Object.entries(v).filter(([, x]) => x === true).map(([k]) => k));
  const labIds = positionals.map((a) => a.replace(/\/+$/, '').split('/').pop()!); // "labs/03-multi-stage/" works too
  if (flags.has('help')) return 'help';
  let blockTimeoutMs: number = AUTOPILOT.blockTimeoutMs;
  if (values['block-timeout'] !== undefined) {
    const n = Number(values['block-timeout']);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--block-timeout must be a positive number of seconds, got "${values['block-timeout']}"`);
    blockTimeoutMs = Math.round(n * 1000);
  }
  let settleMs: number = AUTOPILOT.settleMs;
  if (values['settle'] !== undefined) {
    const n = Number(values['settle']);
    if (!Number.isFinite(n) || n < 0 || n > 600) throw new UsageError(`--settle must be a number of seconds from 0 to 600, got "${values['settle']}"`);
    settleMs = Math.round(n * 1000);
  }
  const opts: VerifyOptions = {
    labIds: [...new Set(labIds)],
    labsDir: path.resolve(cwd, values['labs'] ?? env.LABS_DIR ?? 'labs'),
    dataDir: values['data'] ?? env.DATA_DIR ? path.resolve(cwd, (values['data'] ?? env.DATA_DIR)!) : defaultDataDir(cwd),
    negative: flags.has('negative'),
    blockTimeoutMs,
    settleMs,
    verbose: flags.has('verbose'),
  };
  if (values['json'] !== undefined) opts.jsonFile = path.resolve(cwd, values['json']);
  return opts;
}
