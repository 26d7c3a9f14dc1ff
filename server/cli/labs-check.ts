// npm run labs:check [--strict] [dir]: every problem in every lab as "file:line: message" and every
// authoring nit as "file:line: warning: message". Exit 1 on problems (and, with --strict, on
// warnings too), 0 otherwise, 2 when the folder cannot be read.
// The same loader the server uses, so what passes here is what the server serves.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { argsErrorMessage } from '../config.ts';
import { formatProblem, formatWarning, loadLabs } from '../labs/load.ts';
import type { LabProblem } from '../labs/types.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { strict: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (err) {
    const unknown = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec((err as Error).message)?.[1] : undefined;
    const why = unknown ? `unknown option "${unknown}"` : argsErrorMessage(err);
    console.error(`labs:check: ${why}. Usage: labs:check [--strict] [labs folder]`);
    return 2;
  }
  const strict = parsed.values.strict === true;
  const dir = parsed.positionals[0] ?? env.LABS_DIR ?? 'labs';
  let result;
  try {
    result = await loadLabs(dir);
  } catch (e) {
    console.error(`labs:check: cannot read the labs folder "${dir}": ${(e as Error).message}`);
    return 2;
  }
  const { labs, problems } = result;
  // Paths relative to where the command runs, so editors and terminals can open them.
  const shown = path.relative(process.cwd(), path.resolve(dir)) || '.';
  const where = (p: LabProblem) => ({ ...p, file: path.posix.join(shown.split(path.sep).join('/'), p.file) });
  const lines: Array<{ p: LabProblem; text: string }> = [
    ...problems.map((p) => ({ p, text: formatProblem(where(p)) })),
    ...labs.flatMap((l) => l.warnings ?? []).map((p) => ({ p, text: formatWarning(where(p)) })),
  ];
  // One file's notes together, in line order, as a compiler prints them.
  lines.sort((a, b) => a.p.file.localeCompare(b.p.file) || a.p.line - b.p.line);
  for (const l of lines) console.log(l.text);
  const warnings = lines.length - problems.length;
  const broken = labs.filter((l) => l.problems.length > 0).length;
  const warned = labs.filter((l) => (l.warnings ?? []).length > 0).length;
  const steps = labs.reduce((n, l) => n + l.steps.length, 0);
  const checks = labs.reduce((n, l) => n + l.steps.reduce((m, s) => m + s.checks.length, 0), 0);
  const labsN = plural(labs.length, 'lab');
  if (problems.length > 0) {
    const also = warnings ? ` and ${plural(warnings, 'warning')}` : '';
    console.log(`\n${plural(problems.length, 'problem')}${also} in ${broken} of ${labsN} (${shown})`);
    return 1;
  }
  if (warnings > 0 && strict) {
    console.log(`\n${plural(warnings, 'warning')} in ${warned} of ${labsN} (${shown}); --strict counts them as problems`);
    return 1;
  }
  if (warnings > 0) console.log(`\n${plural(warnings, 'warning')} in ${warned} of ${labsN}: they run as they are; --strict fails on warnings`);
  console.log(`${labsN} OK in ${shown}: ${steps} steps, ${checks} checks`);
  return 0;
}

main(process.argv.slice(2), process.env).then((code) => process.exit(code));
