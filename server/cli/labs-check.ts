// npm run labs:check [dir]: every problem in every lab as "file:line: message", exit 1 if any.
// The same loader the server uses, so what passes here is what the server serves.
import path from 'node:path';
import { formatProblem, loadLabs } from '../labs/load.ts';

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const dir = argv[0] ?? env.LABS_DIR ?? 'labs';
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
  for (const p of problems) console.log(formatProblem({ ...p, file: path.posix.join(shown.split(path.sep).join('/'), p.file) }));
  const broken = labs.filter((l) => l.problems.length > 0).length;
  const steps = labs.reduce((n, l) => n + l.steps.length, 0);
  const checks = labs.reduce((n, l) => n + l.steps.reduce((m, s) => m + s.checks.length, 0), 0);
  if (problems.length > 0) {
    console.log(`\n${problems.length} problem${problems.length === 1 ? '' : 's'} in ${broken} of ${labs.length} lab${labs.length === 1 ? '' : 's'} (${shown})`);
    return 1;
  }
  console.log(`${labs.length} lab${labs.length === 1 ? '' : 's'} OK in ${shown}: ${steps} steps, ${checks} checks`);
  return 0;
}

main(process.argv.slice(2), process.env).then((code) => process.exit(code));
