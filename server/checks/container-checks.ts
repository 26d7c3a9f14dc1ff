// Checks on containers: state and exit code, published ports, logs, and being gone.
import { clip } from './format.ts';
import type {  CheckSpec } from './types.ts';
import { type CheckContext, type Lookup, type Verdict, LOG_TAIL_BYTES, code, failing, noContainer, passing, quote } from './verdict.ts';

// ---- container checks -----------------------------------------------------------------------------

export async function containerState(spec: Extract<CheckSpec, { kind: 'container.state' }>, l: Lookup): Promise<Verdict> {
  const expected = spec.state === 'running' ? 'running'
    : spec.exitCode === undefined ? 'exited' : `exited with code ${spec.exitCode}`;
  const c = await l.container(spec.container);
  if (!c) return noContainer(spec, expected);
  const exited = c.state === 'exited' || c.state === 'dead';
  const actual = exited ? `exited with code ${c.exitCode ?? '?'}` : c.state;
  if (spec.state === 'running') {
    if (c.state === 'running') return passing(actual, expected, `${spec.container} is running.`);
    return failing(spec, actual, expected, `${spec.container} is ${actual}`,
      exited ? `see why with ${code(`docker logs ${spec.container}`)}.` : undefined);
  }
  if (!exited) return failing(spec, actual, expected, `${spec.container} is ${actual}`, c.state === 'running' ? 'wait for it to finish, or stop it.' : undefined);
  if (spec.exitCode !== undefined && c.exitCode !== spec.exitCode) {
    return failing(spec, actual, expected, `${spec.container} ${actual}`, `see what went wrong with ${code(`docker logs ${spec.container}`)}.`);
  }
  return passing(actual, expected, `${spec.container} ${actual}.`);
}

export async function containerPort(spec: Extract<CheckSpec, { kind: 'container.port' }>, l: Lookup): Promise<Verdict> {
  const expected = spec.hostPort === undefined ? `port ${spec.port} published` : `port ${spec.port} published on host port ${spec.hostPort}`;
  const c = await l.container(spec.container);
  if (!c) return noContainer(spec, expected);
  const published = c.ports.filter((p) => p.containerPort === spec.port && p.hostPort !== null);
  const actual = published.length
    ? published.map((p) => `${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ')
    : c.ports.some((p) => p.hostPort !== null)
      ? c.ports.filter((p) => p.hostPort !== null).map((p) => `${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ')
      : 'no published ports';
  const ok = published.some((p) => spec.hostPort === undefined || p.hostPort === spec.hostPort);
  if (ok) return passing(actual, expected, `${spec.container} publishes ${actual}.`);
  if (c.state !== 'running') {
    return failing(spec, actual, expected, `${spec.container} is ${c.state}, and ports are only published while it runs`, `start it with ${code(`docker start ${spec.container}`)}.`);
  }
  return failing(spec, actual, expected, `${spec.container} publishes ${actual}`,
    `run it with ${code(`-p ${spec.hostPort ?? spec.port}:${spec.port}`)}.`);
}

export async function containerLogs(spec: Extract<CheckSpec, { kind: 'container.logs' }>, ctx: CheckContext, l: Lookup): Promise<Verdict> {
  const expected = `logs containing ${quote(spec.contains)}`;
  const c = await l.container(spec.container);
  if (!c) return noContainer(spec, expected);
  const logs = await ctx.engine.containerLogs(spec.container, LOG_TAIL_BYTES);
  const lines = logs.split('\n').map((s) => s.trim()).filter(Boolean);
  const lastLine = lines[lines.length - 1];
  if (logs.includes(spec.contains)) return passing(`contains ${quote(spec.contains)}`, expected, `${spec.container}'s logs contain ${quote(spec.contains)}.`);
  const actual = lastLine ? `last line ${quote(clip(lastLine, 80))}` : 'no output';
  return failing(spec, actual, expected, `${spec.container}'s logs don't contain ${quote(spec.contains)} (${actual})`,
    c.state === 'running' ? 'it may still be starting; give it a moment.' : undefined);
}

export async function containerGone(spec: Extract<CheckSpec, { kind: 'container.gone' }>, l: Lookup): Promise<Verdict> {
  const expected = `no container named ${spec.container}`;
  const c = await l.container(spec.container);
  if (!c) return passing('no such container', expected, `${spec.container} is gone.`);
  const actual = c.state === 'exited' ? `exited with code ${c.exitCode ?? '?'}` : c.state;
  return failing(spec, actual, expected, `${spec.container} is still there (${actual})`,
    `remove it with ${code(`docker rm -f ${spec.container}`)}.`);
}

