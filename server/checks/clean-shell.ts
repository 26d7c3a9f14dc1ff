// How a command check runs in the sandbox: a clean, non-login, non-interactive bash with a fixed
// environment. A login shell sources the learner's ~/.profile (and through it ~/.bashrc), where a
// learner could define `docker() { echo expected; }` or an alias and make any check pass; an
// inherited environment could carry BASH_ENV, exported functions or a DOCKER_CONTEXT pointing at a
// fake engine. `env -i` drops all of that; --noprofile --norc reads no dotfiles. The PATH leaves out
// /usr/local so a script dropped there does not shadow the real tools.
// What this cannot stop (the learner is root in the sandbox): replacing /usr/bin/docker itself, or
// the inner engine's socket. Checks that can be answered from the engine API use the API instead.

/** The whole environment a command check sees. */
export const CHECK_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
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
  return ['/usr/bin/env', '-i', ...env, '/bin/bash', '--noprofile', '--norc', '-c', 'cd -- "$1" && eval "$2"', 'check', workdir, script];
}
