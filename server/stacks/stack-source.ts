// Where a "Try it" stack comes from: a URL the server fetches under the rules (fetch-stack.ts), or,
// on an offline host, a name in STACKS_DIR (`/play?stack=voting` → STACKS_DIR/voting.yml or
// STACKS_DIR/voting/docker-compose.yml). Returns the plan and every file the deploy writes.
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { fetchStack, type StackFetchRules } from './fetch-stack.ts';
import { planStack, stackName, type StackPlan } from './stack-plan.ts';

export interface LoadedStack {
  source: string;
  plan: StackPlan;
  /** Path relative to the stack's folder → content (the compose file is docker-compose.yml). */
  files: Map<string, string>;
}

export interface StackSourceConfig {
  rules: StackFetchRules;
  stacksDir?: string;
}

const COMPOSE_NAMES = ['docker-compose.yml', 'docker-compose.yaml', 'compose.yml', 'compose.yaml'];

export async function loadStack(cfg: StackSourceConfig, q: { stack: string; name?: string; mode?: string }): Promise<LoadedStack> {
  const files = new Map<string, string>();
  if (q.stack.includes('://')) {
    const got = await fetchStack(q.stack, cfg.rules);
    const plan = planStack(got.text, { name: stackName(q.name, got.url), mode: q.mode });
    files.set('docker-compose.yml', got.text);
    for (const f of plan.extraFiles) files.set(f, (await fetchStack(new URL(f, got.url).href, cfg.rules)).text);
    return { source: got.url, plan, files };
  }
  if (!/^[A-Za-z0-9][\w.-]{0,80}$/.test(q.stack) || q.stack.includes('..')) throw new AppError('bad_request', `"${q.stack.slice(0, 100)}" is neither a URL nor the name of a stack on this server.`);
  if (!cfg.stacksDir) throw new AppError('not_found', `This server keeps no stacks of its own (STACKS_DIR is not set); give the stack's full https:// URL instead of "${q.stack}".`);
  const dir = path.join(cfg.stacksDir, q.stack);
  const candidates = [...['.yml', '.yaml'].map((ext) => ({ file: path.join(cfg.stacksDir!, q.stack + ext), base: cfg.stacksDir! })), ...COMPOSE_NAMES.map((n) => ({ file: path.join(dir, n), base: dir }))];
  for (const c of candidates) {
    const text = await fs.readFile(c.file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const plan = planStack(text, { name: stackName(q.name, q.stack), mode: q.mode });
    files.set('docker-compose.yml', text);
    for (const f of plan.extraFiles) {
      const full = path.resolve(c.base, f);
      if (!full.startsWith(path.resolve(c.base) + path.sep)) throw new AppError('bad_request', `The stack names a file outside its folder ("${f}").`);
      files.set(f, await fs.readFile(full, 'utf8').catch(() => {
        throw new AppError('not_found', `The stack "${q.stack}" needs ${f}, which is not in its folder.`);
      }));
    }
    return { source: `${q.stack} (from this server)`, plan, files };
  }
  throw new AppError('not_found', `There is no stack called "${q.stack}" on this server.`);
}
