// The check syntax authors write inside a step:
//
//   ```check
//   - image: welcome-optimized:v1
//     size: < 20 MB
//     from: scratch
//   - run: docker run --rm welcome-optimized:v1
//     output: Welcome
//   ```
//
// A YAML list (or a single mapping). Each item names one subject (image, container, file or
// run) and any number of assertions about it; every assertion becomes one CheckSpec.
// Parsing is pure: it returns specs and problems with exact line numbers, never throws.
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import { CHECK_KINDS } from '../checks/types.ts';
import { patternError } from '../checks/pattern.ts';
import type { CheckSpec, ImageConfigField } from '../checks/types.ts';
import { parseCount, parseRange, parseSize } from './check-sizes.ts';
import { checkTitle } from './check-titles.ts';
import { MAX_TERMS } from './frontmatter.ts';
import {
  CONTAINER_OBJECT_KEYS, CONTAINER_OBJECT_KEY_NAMES, IMAGE_OBJECT_KEYS, IMAGE_OBJECT_KEY_NAMES, OBJECT_KEYS, OBJECT_KEY_NAMES, OBJECT_SUBJECTS,
  type ObjectSubject, containerObjectChecks, imageObjectChecks, objectChecks,
} from './object-checks.ts';

export { parseRange, parseSize } from './check-sizes.ts';
export { checkTitle, formatBytes } from './check-titles.ts';

export interface CheckProblem {
  /** 1-based line in the lab file. */
  line: number;
  message: string;
}

export interface ParsedChecks {
  /** Specs in written order; `id` is '' until the step assigns `${stepId}.c${n}`. */
  checks: CheckSpec[];
  problems: CheckProblem[];
}

interface Field {
  /** Key as the author wrote it (for messages). */
  key: string;
  value: unknown;
  line: number;
}

const SUBJECTS = ['image', 'container', 'file', 'run', ...OBJECT_SUBJECTS] as const;
type Subject = (typeof SUBJECTS)[number];

/** Keys are compared without case, '-' or '_', so exit_code, exit-code and exitCode are one key. */
function norm(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

const ALIASES: Record<string, string> = { command: 'run', cmdline: 'run', expose: 'exposes', exposedports: 'exposes', base: 'from', stdout: 'output', restartpolicy: 'restart' };

const COMMON_KEYS = ['type', 'title', 'hint', 'within'];
const KEYS: Record<Subject, readonly string[]> = {
  image: ['exists', 'size', 'minsize', 'maxsize', 'layers', 'minlayers', 'maxlayers', 'from', 'notfrom', 'entrypoint', 'cmd', 'workdir', 'env', 'exposes', 'labels', 'user', 'haspath', 'lackspath', 'target', 'dockerfile'],
  container: ['state', 'exitcode', 'port', 'hostport', 'logs', 'gone'],
  file: ['exists', 'contains', 'matches'],
  run: ['exitcode', 'output', 'outputmatches', 'failline', 'hintrun', 'node'],
  ...OBJECT_KEYS,
};
KEYS.image = [...KEYS.image, ...IMAGE_OBJECT_KEYS];
KEYS.container = [...KEYS.container, ...CONTAINER_OBJECT_KEYS];

/** Display names of the keys an author can write, for "unknown key" messages. */
const KEY_NAMES: Record<Subject, string> = {
  image: 'exists, size, min_size, max_size, layers, from, not_from, entrypoint, cmd, workdir, env, exposes, labels, user, has_path, lacks_path, target, dockerfile',
  container: 'state, exit_code, port, host_port, logs, gone',
  file: 'exists, contains, matches',
  run: 'output, output_matches, exit_code, fail_line, hint_run, node',
  ...OBJECT_KEY_NAMES,
};
KEY_NAMES.image += `, ${IMAGE_OBJECT_KEY_NAMES}`;
KEY_NAMES.container += `, ${CONTAINER_OBJECT_KEY_NAMES}`;

const CONFIG_FIELDS: Record<string, ImageConfigField> = {
  entrypoint: 'entrypoint', cmd: 'cmd', workdir: 'workdir', env: 'env', exposes: 'exposedPorts', labels: 'labels', user: 'user',
};

export function parseChecks(src: string, firstLine: number): ParsedChecks {
  const problems: CheckProblem[] = [];
  const checks: CheckSpec[] = [];
  const lc = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number => firstLine + (offset === undefined ? 0 : lc.linePos(offset).line - 1);

  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      problems.push({ line: firstLine + ((e.linePos?.[0]?.line ?? 1) - 1), message: `check block: ${yamlMessage(e.message, lineText(src, e.linePos?.[0]?.line))}` });
    }
    return { checks, problems };
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    problems.push({ line: firstLine - 1, message: 'empty check block: list the checks, e.g. "- image: app:v1"' });
    return { checks, problems };
  }
  const items: unknown[] = isSeq(root) ? root.items : [root];
  for (const item of items) {
    const line = lineOf((item as Node | null)?.range?.[0]);
    if (!isMap(item)) {
      problems.push({ line, message: 'each check is a mapping such as "image: app:v1" with assertions below it' });
      continue;
    }
    const fields = new Map<string, Field>();
    for (const pair of item.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      const n = ALIASES[norm(key)] ?? norm(key);
      const valueNode = pair.value as Node | null;
      const value = valueNode && 'toJSON' in valueNode ? (valueNode as { toJSON(): unknown }).toJSON() : null;
      fields.set(n, { key, value, line: lineOf(keyNode?.range?.[0]) });
    }
    const out = parseItem(fields, line, problems);
    checks.push(...out);
  }
  return { checks, problems };
}

function lineText(src: string, line: number | undefined): string {
  return line === undefined ? '' : (src.split('\n')[line - 1] ?? '');
}

/** The yaml package's first message line without its own position (we give ours). */
export function yamlMessage(message: string, text = ''): string {
  const first = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
  // A leading ">" starts a YAML block scalar: the commonest slip when writing "size: > 500MB".
  if (/:\s*>\s*\S/.test(text)) return `${first} (a value starting with ">" must be quoted, e.g. "> 500 MB", or write "over 500 MB")`;
  return first;
}

type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Draft = DistOmit<CheckSpec, 'id' | 'line'> & { line?: number };

function parseItem(fields: Map<string, Field>, line: number, problems: CheckProblem[]): CheckSpec[] {
  const report = (l: number, message: string) => problems.push({ line: l, message });
  // "image:" is also a key of container and service checks (the image they run).
  // "node:" is also a key of command checks (the node whose sandbox runs it).
  const present = SUBJECTS.filter((s) => fields.has(s) && !(s === 'image' && (fields.has('container') || fields.has('service'))) && !(s === 'node' && fields.has('run')));
  const type = fields.get('type');
  if (type !== undefined && !(CHECK_KINDS as readonly string[]).includes(String(type.value))) {
    report(type.line, `unknown check type "${String(type.value)}" (known types: ${CHECK_KINDS.join(', ')})`);
    return [];
  }
  if (present.length === 0) {
    const first = [...fields.values()][0];
    report(line, `unknown check type: a check starts with image:, container:, file:, run:, volume:, network:, compose:, node:, nodes:, service: or stack:${first ? ` (found "${first.key}")` : ''}`);
    return [];
  }
  if (present.length > 1) {
    report(line, `one subject per check: found ${present.join(' and ')}; split them into two list items`);
    return [];
  }
  const subject = present[0] as Subject;
  const subj = fields.get(subject)!;
  const allowed = new Set([subject, ...COMMON_KEYS, ...KEYS[subject]]);
  let ok = true;
  for (const [n, f] of fields) {
    if (!allowed.has(n)) {
      const noun = subject === 'run' ? 'a command' : subject === 'image' ? 'an image' : `a ${subject}`;
      report(f.line, `unknown key "${f.key}" in ${noun} check (use ${KEY_NAMES[subject]})`);
      ok = false;
    }
  }
  const target = typeof subj.value === 'string' || typeof subj.value === 'number' ? String(subj.value).trim() : '';
  if (target === '') {
    report(subj.line, subject === 'run' ? 'missing command after "run:"' : `missing ${subject} name after "${subj.key}:"`);
    return [];
  }
  if (!ok) return [];

  const drafts: Array<Draft | null> = [];
  const before = problems.length;
  switch (subject) {
    case 'image': drafts.push(...imageChecks(target, fields, report)); break;
    case 'container': drafts.push(...containerChecks(target, fields, report)); break;
    case 'file': drafts.push(...fileChecks(target, fields, report)); break;
    case 'run': drafts.push(runCheck(target, fields, report)); break;
    default: drafts.push(...objectChecks(subject as ObjectSubject, target, fields, report));
  }
  if (problems.length > before) return [];
  // In the order the author wrote the assertions.
  const specs = drafts.filter((d): d is Draft => d !== null).sort((a, b) => (a.line ?? line) - (b.line ?? line));
  const title = fields.get('title');
  const hint = fields.get('hint');
  const within = fields.get('within');
  let withinMs: number | undefined;
  if (within) {
    const ms = parseWithin(within.value);
    if (ms === null) {
      report(within.line, `bad "within" "${String(within.value)}": write a time up to 10 minutes, e.g. 30s, 2m or 500ms (a bare number is seconds)`);
      return [];
    }
    withinMs = ms;
  }
  if (title && specs.length > 1) {
    report(title.line, `"title" names one check, but this item holds ${specs.length} assertions; split it into one item per assertion`);
    return [];
  }
  if (type && specs.length === 1 && specs[0]!.kind !== type.value) {
    report(type.line, `type "${String(type.value)}" does not match the keys, which describe a ${specs[0]!.kind} check`);
    return [];
  }
  return specs.map((d) => {
    const spec = { ...d, id: '', line: d.line ?? line } as CheckSpec;
    if (title) spec.title = String(title.value);
    if (hint) spec.hint = String(hint.value);
    if (withinMs !== undefined) spec.withinMs = withinMs;
    if (!spec.title) spec.title = checkTitle(spec);
    return spec;
  });
}

type Report = (line: number, message: string) => void;

/** `within:` 30s, 2m, 500ms or a number of seconds; 0 up to 10 minutes. */
export function parseWithin(v: unknown): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(String(v ?? '').trim());
  if (!m || typeof v === 'boolean') return null;
  const ms = Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000));
  return ms <= 600_000 ? ms : null;
}

function imageChecks(image: string, f: Map<string, Field>, report: Report): Draft[] {
  const out: Draft[] = [];
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(image)) report(f.get('image')!.line, `"${image}" is not an image name (e.g. welcome:v1)`);
  const exists = f.get('exists');
  if (exists) {
    if (typeof exists.value !== 'boolean') report(exists.line, '"exists" is true or false');
    else out.push({ kind: 'image.exists', image, exists: exists.value, line: exists.line });
  }
  // Size: one check from size / min_size / max_size together.
  const size = f.get('size');
  const minSize = f.get('minsize');
  const maxSize = f.get('maxsize');
  if (size || minSize || maxSize) {
    let minBytes: number | undefined;
    let maxBytes: number | undefined;
    let l = (size ?? minSize ?? maxSize)!.line;
    if (size) {
      const r = parseRange(size.value, parseSize);
      if ('error' in r) report(size.line, `bad size "${String(size.value)}": ${r.error}`);
      else ({ min: minBytes, max: maxBytes } = r);
    }
    if (minSize) {
      const v = parseSize(String(minSize.value));
      if (v === null) report(minSize.line, `bad size "${String(minSize.value)}": write a number and a unit, e.g. 500MB`);
      else minBytes = v;
      l = minSize.line;
    }
    if (maxSize) {
      const v = parseSize(String(maxSize.value));
      if (v === null) report(maxSize.line, `bad size "${String(maxSize.value)}": write a number and a unit, e.g. 20MB`);
      else maxBytes = v;
      l = maxSize.line;
    }
    if (minBytes !== undefined || maxBytes !== undefined) {
      const d: Draft = { kind: 'image.size', image, line: l };
      if (minBytes !== undefined) (d as { minBytes?: number }).minBytes = minBytes;
      if (maxBytes !== undefined) (d as { maxBytes?: number }).maxBytes = maxBytes;
      out.push(d);
    }
  }
  const layers = f.get('layers');
  const minLayers = f.get('minlayers');
  const maxLayers = f.get('maxlayers');
  if (layers || minLayers || maxLayers) {
    let min: number | undefined;
    let max: number | undefined;
    const l = (layers ?? minLayers ?? maxLayers)!.line;
    if (layers) {
      const r = typeof layers.value === 'number' ? { min: layers.value, max: layers.value } : parseRange(layers.value, parseCount);
      if ('error' in r || !Number.isInteger(r.min ?? 0) || !Number.isInteger(r.max ?? 0)) {
        report(layers.line, `bad layer count "${String(layers.value)}": write 3, "< 5", "at least 2" or 2..4`);
      } else ({ min, max } = r);
    }
    for (const [fld, set] of [[minLayers, (v: number) => (min = v)], [maxLayers, (v: number) => (max = v)]] as const) {
      if (!fld) continue;
      const v = parseCount(String(fld.value));
      if (v === null) report(fld.line, `bad layer count "${String(fld.value)}"`);
      else set(v);
    }
    const d: Draft = { kind: 'image.layers', image, line: l };
    if (min !== undefined) (d as { min?: number }).min = min;
    if (max !== undefined) (d as { max?: number }).max = max;
    out.push(d);
  }
  for (const [key, shares] of [['from', true], ['notfrom', false]] as const) {
    const b = f.get(key);
    if (!b) continue;
    if (typeof b.value !== 'string' || b.value.trim() === '') report(b.line, `"${b.key}" names an image, e.g. scratch or golang:1.19`);
    else if (!shares && b.value.trim() === 'scratch') report(b.line, '"not_from: scratch" cannot be checked; use "from:" with the real base image');
    else out.push({ kind: 'image.base', image, base: b.value.trim(), shares, line: b.line });
  }
  for (const [key, field] of Object.entries(CONFIG_FIELDS)) {
    const c = f.get(key);
    if (!c) continue;
    const d = configCheck(image, field, c, report);
    if (d) out.push(d);
  }
  for (const [key, exists] of [['haspath', true], ['lackspath', false]] as const) {
    const p = f.get(key);
    if (!p) continue;
    if (typeof p.value !== 'string' || !p.value.startsWith('/')) report(p.line, `"${p.key}" is an absolute path inside the image, e.g. /usr/local/bin/app`);
    else out.push({ kind: 'image.path', image, path: p.value, exists, line: p.line });
  }
  const target = f.get('target');
  const dockerfile = f.get('dockerfile');
  if (target) {
    if (typeof target.value !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(target.value)) report(target.line, '"target" is the name of a build stage, e.g. builder');
    else if (dockerfile && (typeof dockerfile.value !== 'string' || dockerfile.value.trim() === '')) report(dockerfile.line, '"dockerfile" is a path such as Dockerfile');
    else out.push({ kind: 'image.target', image, stage: target.value, dockerfile: dockerfile ? String(dockerfile.value).trim() : 'Dockerfile', line: target.line });
  } else if (dockerfile) {
    report(dockerfile.line, '"dockerfile" goes with "target:" (the stage the image was built up to)');
  }
  out.push(...imageObjectChecks(image, f, report));
  if (out.length === 0 && !exists) out.push({ kind: 'image.exists', image, exists: true });
  return out;
}

function configCheck(image: string, field: ImageConfigField, c: Field, report: Report): Draft | null {
  const v = c.value;
  if (v === null || v === undefined) {
    report(c.line, `"${c.key}" needs a value`);
    return null;
  }
  if (field === 'exposedPorts') {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(String(v).trim());
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) {
      report(c.line, `bad port "${String(v)}": write 8080 or 53/udp`);
      return null;
    }
    return { kind: 'image.config', image, field, contains: `${m[1]}/${m[2] ?? 'tcp'}`, line: c.line };
  }
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'contains') return { kind: 'image.config', image, field, contains: String(o.contains), line: c.line };
    if (keys.length === 1 && keys[0] === 'equals') return { kind: 'image.config', image, field, equals: o.equals, line: c.line };
    if (field === 'labels') return { kind: 'image.config', image, field, equals: o, line: c.line };
    report(c.line, `"${c.key}" takes a value, or "contains:" / "equals:" below it`);
    return null;
  }
  // A bare string for a list-valued field means "one of its elements" (ENTRYPOINT ["./app"] has ./app).
  if (typeof v === 'string' && (field === 'entrypoint' || field === 'cmd' || field === 'env')) {
    return { kind: 'image.config', image, field, contains: v, line: c.line };
  }
  return { kind: 'image.config', image, field, equals: typeof v === 'number' ? String(v) : v, line: c.line };
}

function containerChecks(container: string, f: Map<string, Field>, report: Report): Draft[] {
  const out: Draft[] = [];
  const state = f.get('state');
  const exitCode = f.get('exitcode');
  if (state) {
    if (state.value !== 'running' && state.value !== 'exited') report(state.line, `"state" is running or exited, not "${String(state.value)}"`);
    else {
      const d: Draft = { kind: 'container.state', container, state: state.value, line: state.line };
      if (exitCode) {
        const code = parseExitCode(exitCode, report);
        if (code !== null && code !== undefined) (d as { exitCode?: number }).exitCode = code;
      }
      out.push(d);
    }
  } else if (exitCode) {
    const code = parseExitCode(exitCode, report);
    if (code !== null) {
      const d: Draft = { kind: 'container.state', container, state: 'exited', line: exitCode.line };
      if (code !== undefined) (d as { exitCode?: number }).exitCode = code;
      out.push(d);
    }
  }
  const port = f.get('port');
  const hostPort = f.get('hostport');
  if (port) {
    const m = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/tcp)?$/.exec(String(port.value).trim());
    const hp = hostPort ? Number(hostPort.value) : m?.[1] !== undefined ? Number(m[1]) : undefined;
    if (!m || !validPort(Number(m[2])) || (hp !== undefined && !validPort(hp))) {
      report(port.line, `bad port "${String(port.value)}": write 8080 (container port) or 8080:80 (host:container)`);
    } else {
      const d: Draft = { kind: 'container.port', container, port: Number(m[2]), line: port.line };
      if (hp !== undefined) (d as { hostPort?: number }).hostPort = hp;
      out.push(d);
    }
  } else if (hostPort) {
    report(hostPort.line, '"host_port" goes with "port:" (the container port)');
  }
  const logs = f.get('logs');
  if (logs) {
    if (typeof logs.value !== 'string' && typeof logs.value !== 'number') report(logs.line, '"logs" is the text the logs must contain');
    else out.push({ kind: 'container.logs', container, contains: String(logs.value), line: logs.line });
  }
  const gone = f.get('gone');
  if (gone) {
    if (gone.value !== true) report(gone.line, '"gone" is written "gone: true" (to require a running container, use "state: running")');
    else out.push({ kind: 'container.gone', container, line: gone.line });
  }
  out.push(...containerObjectChecks(container, f, report));
  if (out.length === 0 && !state && !exitCode && !gone) out.push({ kind: 'container.state', container, state: 'running' });
  return out;
}

function fileChecks(path: string, f: Map<string, Field>, report: Report): Draft[] {
  const out: Draft[] = [];
  const exists = f.get('exists');
  if (exists) {
    if (typeof exists.value !== 'boolean') report(exists.line, '"exists" is true or false');
    else out.push({ kind: 'file.exists', path, exists: exists.value, line: exists.line });
  }
  const contains = f.get('contains');
  if (contains) {
    if (typeof contains.value !== 'string' || contains.value === '') report(contains.line, '"contains" is the text the file must contain');
    else out.push({ kind: 'file.contains', path, pattern: escapeRegExp(contains.value), line: contains.line });
  }
  const matches = f.get('matches');
  if (matches) {
    const err = regexError(matches.value);
    if (err) report(matches.line, `bad regular expression "${String(matches.value)}": ${err}`);
    else out.push({ kind: 'file.contains', path, pattern: String(matches.value), line: matches.line });
  }
  if (out.length === 0 && !exists) out.push({ kind: 'file.exists', path, exists: true });
  return out;
}

function runCheck(run: string, f: Map<string, Field>, report: Report): Draft | null {
  const d: Extract<Draft, { kind: 'command' }> = { kind: 'command', run };
  const output = f.get('output');
  const matches = f.get('outputmatches');
  const exitCode = f.get('exitcode');
  if (output) {
    if (typeof output.value !== 'string' && typeof output.value !== 'number') report(output.line, '"output" is the text the command must print');
    else d.stdoutContains = String(output.value);
  }
  if (matches) {
    const err = regexError(matches.value);
    if (err) report(matches.line, `bad regular expression "${String(matches.value)}": ${err}`);
    else d.stdoutMatches = String(matches.value);
  }
  for (const [key, field] of [['failLine', f.get('failline')], ['hintRun', f.get('hintrun')]] as const) {
    if (!field) continue;
    if (typeof field.value !== 'string' || !field.value.trim()) report(field.line, `"${field.key}" is ${key === 'failLine' ? 'the text the reason line starts with (e.g. "FAIL:")' : 'a script whose output is the hint'}`);
    else d[key] = field.value;
  }
  const node = f.get('node');
  if (node) {
    // node: 2 or node2 (as ```setup node2 writes it); whether the lab has that node is checked with its terms.
    const n = typeof node.value === 'number' ? node.value : Number(/^(?:node)?(\d+)$/i.exec(String(node.value).trim())?.[1] ?? NaN);
    if (!Number.isInteger(n) || n < 1 || n > MAX_TERMS) report(node.line, `bad node "${String(node.value)}": write the node (terminal) that runs the command, 1 to ${MAX_TERMS}`);
    else d.node = n;
  }
  // A command must succeed unless the author says otherwise ("exit_code: any" disables it).
  const code = exitCode ? parseExitCode(exitCode, report) : 0;
  if (code === null) return null;
  if (code !== undefined) d.exitCode = code;
  return d;
}

/** undefined = any exit code; null = invalid (reported). */
function parseExitCode(f: Field, report: Report): number | undefined | null {
  if (f.value === 'any') return undefined;
  if (typeof f.value === 'number' && Number.isInteger(f.value) && f.value >= 0 && f.value <= 255) return f.value;
  report(f.line, `bad exit code "${String(f.value)}": write a number 0..255 or "any"`);
  return null;
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** The evaluator's own reading (server/checks/pattern.ts): "text" or "/text/flags". */
function regexError(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return 'write a regular expression as a string';
  return patternError(v);
}

function escapeRegExp(s: string): string {
  // "/" too, so a literal never reads as the evaluator's "/regex/flags" form.
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
