// Deploys a loaded stack on a playground node, through the driver's exec: its files go to
// /root/<name>/, then `docker compose up -d` there (so `build:` works), or for a Swarm stack the
// node starts a swarm if it has none and runs `docker stack deploy`.
import type { SandboxDriver, SandboxRef } from '../../sandbox/driver/types.ts';
import { AppError } from '../errors.ts';
import type { LoadedStack } from './stack-source.ts';

const DEPLOY_TIMEOUT_MS = 10 * 60_000;

export async function deployStack(driver: Pick<SandboxDriver, 'exec'>, ref: SandboxRef, stack: LoadedStack, progress: (m: string) => void): Promise<string> {
  const dir = `/root/${stack.plan.name}`;
  progress(`Writing ${[...stack.files.keys()].join(', ')} into node${ref.node}:${dir}`);
  for (const [rel, text] of stack.files) {
    const r = await driver.exec(ref, ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', `${dir}/${rel}`], { stdin: text, timeoutMs: 15_000 });
    if (r.exitCode !== 0) throw new AppError('sandbox_failed', `Could not write ${rel} into node${ref.node}: ${r.stderr.trim()}`);
  }
  const run = async (cmd: string[], what: string) => {
    progress(`node${ref.node}: ${cmd.join(' ')}`);
    const r = await driver.exec(ref, cmd, { workdir: dir, timeoutMs: DEPLOY_TIMEOUT_MS });
    const out = `${r.stdout}${r.stderr}`.trim();
    if (r.exitCode !== 0) throw new AppError('sandbox_failed', `${what} failed: ${out.split('\n').slice(-3).join(' ') || `exit ${r.exitCode}`}`);
    return out;
  };
  if (stack.plan.mode === 'compose') return run(['docker', 'compose', '-p', stack.plan.name, 'up', '-d'], 'docker compose up -d');
  const state = await driver.exec(ref, ['docker', 'info', '--format', '{{.Swarm.LocalNodeState}}'], { timeoutMs: 15_000 });
  if (state.stdout.trim() !== 'active') await run(['docker', 'swarm', 'init', '--advertise-addr', 'eth0'], 'docker swarm init');
  return run(['docker', 'stack', 'deploy', '-c', 'docker-compose.yml', stack.plan.name], 'docker stack deploy');
}
