// The git command line, run without a shell: arguments go to git as they are, never through
// interpolation. git is told which protocols it may use (the ones labs-repos.ts accepts), never to
// ask for a password on a terminal, and to ignore the system's git config.
import { runCommand } from '../../sandbox/driver/command-runner.ts';

export interface GitRunner {
  /** Runs git with these arguments; resolves with its stdout, rejects with its last stderr line. */
  run(args: readonly string[], opts?: { cwd?: string }): Promise<string>;
}

export function createGitCli(opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }): GitRunner {
  const base = opts.env ?? process.env;
  const env: NodeJS.ProcessEnv = {
    PATH: base.PATH,
    HOME: base.HOME, // ssh keys and the user's credential helper
    LANG: 'C',
    LC_ALL: 'C',
    GIT_ALLOW_PROTOCOL: 'https:http:git:ssh',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_SSH_COMMAND: base.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
  };
  return {
    async run(args, o = {}) {
      const r = await runCommand('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'protocol.file.allow=never', ...args], { cwd: o.cwd, env, timeoutMs: opts.timeoutMs, maxBuffer: 4 << 20 });
      if (r.code === 0) return r.stdout;
      const lines = r.stderr.trim().split('\n').filter(Boolean);
      const why = r.timedOut ? `timed out after ${opts.timeoutMs / 1000} s` : lines.at(-1) ?? r.error ?? `exit ${r.code ?? r.signal}`;
      throw new Error(`git ${subcommand(args)}: ${why}`);
    },
  };
}

/** "fetch" in `--git-dir X fetch …`: the first argument that is neither a global option nor its value. */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--git-dir' || args[i] === '-C' || args[i] === '-c') i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return '';
}
