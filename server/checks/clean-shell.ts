// How a command check runs in the sandbox: a clean, non-login, non-interactive bash with a fixed
// environment. A login shell sources the learner's ~/.profile (and through it ~/.bashrc), where a
// learner could define `docker() { echo expected; }` or an alias and make any check pass; an
// inherited environment could carry BASH_ENV, exported functions or a DOCKER_CONTEXT pointing at a
// fake engine. `env -i` drops all of that; --noprofile --norc reads no dotfiles. The tools come first
// from /.lablab/bin, the sandbox's trusted toolset (host root's, read-only, with its own libraries and
// loader; see sandbox/README.md "The boundary"), so a learner who replaces /usr/bin/docker, bash or
// grep does not answer for the check; the PATH leaves out /usr/local.
// What this cannot stop: the engine the tools ask is the learner's own.

/** The whole environment a command check sees. */
export const CHECK_ENV: Readonly<Record<string, string>> = {
  PATH: '/.lablab/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
  DOCKER_HOST: 'unix:///run/lab/docker.sock',
  // No ~/.docker/config.json: no contexts, no credential helpers, no CLI aliases chosen by the learner.
  DOCKER_CONFIG: '/nonexistent/lablab-check',
};

/** The argv for running `script` in `workdir`; the script is an argument, never spliced into code. */
export function cleanShellArgv(workdir: string, script: string): string[] {
  const env = Object.entries(CHECK_ENV).map(([k, v]) => `${k}=${v}`);
  return ['/.lablab/bin/env', '-i', ...env, '/.lablab/bin/bash', '--noprofile', '--norc', '-c', 'cd -- "$1" && eval "$2"', 'check', workdir, script];
}
