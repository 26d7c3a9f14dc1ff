// The human title of a check when its author gave none: "Image welcome:v1 is under 20 MB".
import type { CheckSpec, ImageConfigField } from '../checks/types.ts';
import { showPattern } from '../checks/pattern.ts';
import { objectCheckTitle } from './object-check-titles.ts';

const CONFIG_LABELS: Record<ImageConfigField, string> = {
  entrypoint: 'entrypoint', cmd: 'default command', workdir: 'working directory', env: 'environment',
  exposedPorts: 'exposed ports', labels: 'labels', user: 'user',
};

/** "20 MB" from 20_000_000 (or 19_999_999, the strict "< 20 MB"): round to what the author wrote. */
export function formatBytes(n: number): string {
  const units: Array<[number, string]> = [[1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']];
  for (const [size, name] of units) {
    if (n + 1 >= size) {
      const v = Math.round(((n + 1) / size) * 100) / 100;
      const w = Math.round((n / size) * 100) / 100;
      return `${Number.isInteger(v) ? v : w} ${name}`;
    }
  }
  return `${n} B`;
}

export function short(cmd: string): string {
  const first = cmd.split('\n')[0]!.trim();
  const s = first.length > 60 ? `${first.slice(0, 57)}…` : first;
  return cmd.includes('\n') ? `${s} …` : s;
}

/** A human title derived from the spec, shown when the author gives none. */
export function checkTitle(c: CheckSpec): string {
  switch (c.kind) {
    case 'image.exists':
      return c.exists ? `Image ${c.image} exists` : `There is no image ${c.image}`;
    case 'image.size':
      if (c.minBytes !== undefined && c.maxBytes !== undefined) return `Image ${c.image} is between ${formatBytes(c.minBytes)} and ${formatBytes(c.maxBytes)}`;
      if (c.maxBytes !== undefined) return `Image ${c.image} is under ${formatBytes(c.maxBytes)}`;
      return `Image ${c.image} is over ${formatBytes(c.minBytes ?? 0)}`;
    case 'image.layers':
      if (c.min !== undefined && c.min === c.max) return `Image ${c.image} has ${c.min} layer${c.min === 1 ? '' : 's'}`;
      if (c.min !== undefined && c.max !== undefined) return `Image ${c.image} has ${c.min} to ${c.max} layers`;
      if (c.max !== undefined) return `Image ${c.image} has at most ${c.max} layer${c.max === 1 ? '' : 's'}`;
      return `Image ${c.image} has at least ${c.min ?? 0} layer${c.min === 1 ? '' : 's'}`;
    case 'image.base':
      if (c.base === 'scratch') return `Image ${c.image} is built from scratch`;
      return c.shares ? `Image ${c.image} is built on ${c.base}` : `Image ${c.image} is not built on ${c.base}`;
    case 'image.config': {
      const what = CONFIG_LABELS[c.field];
      if (c.contains !== undefined) return c.field === 'exposedPorts' ? `Image ${c.image} exposes port ${c.contains}` : `The ${what} of ${c.image} includes ${c.contains}`;
      return `The ${what} of ${c.image} is ${typeof c.equals === 'string' ? c.equals : JSON.stringify(c.equals)}`;
    }
    case 'image.path':
      return c.exists ? `Image ${c.image} contains ${c.path}` : `Image ${c.image} does not contain ${c.path}`;
    case 'image.target':
      return `Image ${c.image} is the "${c.stage}" stage of ${c.dockerfile}`;
    case 'container.state':
      if (c.state === 'running') return `Container ${c.container} is running`;
      return c.exitCode === undefined ? `Container ${c.container} has exited` : `Container ${c.container} exited with code ${c.exitCode}`;
    case 'container.port':
      return `Container ${c.container} publishes port ${c.port}${c.hostPort === undefined ? '' : ` on host port ${c.hostPort}`}`;
    case 'container.logs':
      return `The logs of ${c.container} mention "${c.contains}"`;
    case 'container.gone':
      return `Container ${c.container} has been removed`;
    case 'file.exists':
      return c.exists ? `File ${c.path} exists` : `File ${c.path} is gone`;
    case 'file.contains':
      return `File ${c.path} contains ${unescapeRegExp(c.pattern) ?? `a match for ${showPattern(c.pattern)}`}`;
    case 'command': {
      const cmd = `Running ${short(c.run)}`;
      if (c.stdoutContains !== undefined) return `${cmd} prints "${c.stdoutContains}"`;
      if (c.stdoutMatches !== undefined) return `${cmd} prints a match for ${showPattern(c.stdoutMatches)}`;
      if (c.exitCode !== undefined && c.exitCode !== 0) return `${cmd} exits with code ${c.exitCode}`;
      return `${cmd} succeeds`;
    }
    default:
      return objectCheckTitle(c);
  }
}

/** The literal text behind a pattern made by escapeRegExp, or null for a real regex. */
export function unescapeRegExp(p: string): string | null {
  if (/(?<!\\)[.*+?^${}()|[\]/]/.test(p)) return null;
  return `"${p.replace(/\\(.)/g, '$1')}"`;
}

