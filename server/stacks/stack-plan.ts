// Pure: what a stack file asks for. Compose (`docker compose up -d`, so `build:` works) unless the
// link says mode=swarm, or the file is a Swarm stack (services with `deploy:` and nothing to build).
// The build contexts' Dockerfiles it names are fetched beside it, under the same rules.
import path from 'node:path/posix';
import YAML from 'yaml';
import { AppError } from '../errors.ts';

export interface StackPlan {
  name: string;
  mode: 'compose' | 'swarm';
  /** The compose file's text, as fetched. */
  compose: string;
  /** Files a build needs, relative to the compose file's folder (its Dockerfiles). */
  extraFiles: string[];
}

/** A project or stack name Docker accepts, from the link's stack_name or the file's URL. */
export function stackName(given: string | undefined, source: string): string {
  let pathname = source;
  try {
    pathname = new URL(source).pathname;
  } catch {
    // a STACKS_DIR name, not a URL
  }
  const from = given || pathname.split('/').filter(Boolean).slice(-2, -1)[0] || (/^[\w-]+$/.test(source) ? source : 'stack');
  const name = from.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|[-_]+$/g, '').slice(0, 40);
  return name || 'stack';
}

/** A relative path inside the stack's folder; anything leaving it is refused. */
export function insideStack(p: string): string {
  const n = path.normalize(p.replace(/^\.\//, ''));
  if (!n || n.startsWith('/') || n === '..' || n.startsWith('../')) throw new AppError('bad_request', `The stack names a build path outside its own folder ("${p}"); that cannot be fetched.`);
  return n;
}

export function planStack(text: string, opts: { name: string; mode?: string }): StackPlan {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new AppError('bad_request', `The stack file is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const services = (doc as { services?: unknown } | null)?.services;
  if (!services || typeof services !== 'object' || Array.isArray(services)) throw new AppError('bad_request', 'The stack file has no "services:"; it does not look like a Compose file.');
  if (opts.mode !== undefined && opts.mode !== '' && opts.mode !== 'swarm' && opts.mode !== 'compose') throw new AppError('bad_request', `mode must be swarm or compose, not "${opts.mode}".`);
  const list = Object.values(services as Record<string, Record<string, unknown> | null>).map((s) => s ?? {});
  const builds = list.filter((s) => s.build !== undefined);
  const wantsSwarm = opts.mode === 'swarm' || (opts.mode !== 'compose' && builds.length === 0 && list.some((s) => s.deploy !== undefined));
  const extraFiles = new Set<string>();
  if (!wantsSwarm) {
    for (const s of builds) {
      const b = s.build as string | { context?: string; dockerfile?: string };
      const context = typeof b === 'string' ? b : b?.context ?? '.';
      if (/^[a-z]+:\/\//i.test(context) || context.startsWith('git@')) continue; // a remote context the engine fetches itself: not ours to fetch
      const dockerfile = typeof b === 'object' && b?.dockerfile ? b.dockerfile : 'Dockerfile';
      extraFiles.add(insideStack(path.join(context, dockerfile)));
    }
  }
  return { name: opts.name, mode: wantsSwarm ? 'swarm' : 'compose', compose: text, extraFiles: [...extraFiles] };
}
