// Turns a CheckSpec into a verdict by asking the sandbox: its inner engine for images and containers, and
// short commands for files. Never throws: engine errors, timeouts and malformed checks are verdicts too.
import path from 'node:path';
import type { ContainerInfo, EngineClient, ExecResult, ImageInfo } from '../../sandbox/driver/types.ts';
import { TUNING } from '../config.ts';
import { findStage, parseDockerfile, stageChain } from './dockerfile.ts';
import { clip, exactSize, humanSize, plural, seconds, sizeBound } from './format.ts';
import { isPrefix, judgeScratch, matchStage, nameOf, sharedLeadingLayers } from './images.ts';
import type { CheckResult, CheckSpec, CheckStatus, ImageConfigField } from './types.ts';

/** What a check may use. The server builds it from the sandbox driver (driver.engine(ref), driver.exec(ref, …)). */
export interface CheckContext {
  engine: EngineClient;
  /** Runs a command inside the sandbox (not in an inner container). */
  exec(cmd: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** The shell's starting directory in the sandbox; relative paths in checks are relative to it. */
  workdir: string;
  now(): number;
}

export interface EvaluateOptions {
  /** Per-check time limit; default TUNING.checkTimeoutMs. */
  timeoutMs?: number;
}

/** Largest file a file.contains check reads (and the Dockerfile an image.target check reads). */
const MAX_FILE_BYTES = 1024 * 1024;
/** How much of a container's log a container.logs check searches (its end). */
const LOG_TAIL_BYTES = 256 * 1024;

type Verdict = { status: CheckStatus; actual?: string; expected: string; message: string; problem?: CheckResult['problem'] };

/** Per-evaluation memo: one step's checks often look at the same image several times. */
interface Lookup {
  image(ref: string): Promise<ImageInfo | null>;
  /** Every tagged image, once each, with all of its tags. */
  allImages(): Promise<ImageInfo[]>;
  container(ref: string): Promise<ContainerInfo | null>;
}

function createLookup(engine: EngineClient): Lookup {
  const images = new Map<string, Promise<ImageInfo | null>>();
  const containers = new Map<string, Promise<ContainerInfo | null>>();
  let all: Promise<ImageInfo[]> | undefined;
  const image = (ref: string): Promise<ImageInfo | null> => {
    let p = images.get(ref);
    if (!p) images.set(ref, (p = engine.image(ref)));
    return p;
  };
  return {
    image,
    container(ref) {
      let p = containers.get(ref);
      if (!p) containers.set(ref, (p = engine.container(ref)));
      return p;
    },
    allImages() {
      all ??= (async () => {
        const tags = [...new Set(await engine.imageTags())];
        const infos = await Promise.all(tags.map(image));
        const byId = new Map<string, ImageInfo>();
        for (const info of infos) if (info && !byId.has(info.id)) byId.set(info.id, info);
        return [...byId.values()];
      })();
      return all;
    },
  };
}

const code = (s: string): string => '`' + s + '`';
const quote = (s: string): string => `“${s}”`;

/** Appends the author's hint, or ours, to a failing message. */
function failing(spec: CheckSpec, actual: string, expected: string, what: string, defaultHint?: string, expectedInMessage = expected): Verdict {
  const hint = spec.hint ?? defaultHint;
  return { status: 'fail', actual, expected, message: `${what}; this step expects ${expectedInMessage}${hint ? ` — ${hint}` : '.'}` };
}

function passing(actual: string, expected: string, message: string): Verdict {
  return { status: 'pass', actual, expected, message };
}

function noImage(spec: CheckSpec & { image: string }, expected: string): Verdict {
  return {
    status: 'fail',
    actual: 'no such image',
    expected,
    message: `No image named ${spec.image} yet — ${spec.hint ?? 'run the build block above.'}`,
  };
}

function noContainer(spec: CheckSpec & { container: string }, expected: string): Verdict {
  return {
    status: 'fail',
    actual: 'no such container',
    expected,
    message: `No container named ${spec.container} yet — ${spec.hint ?? 'run the `docker run` block above.'}`,
  };
}

function authorError(expected: string, message: string): Verdict {
  return { status: 'fail', actual: 'malformed check', expected, message, problem: 'author' };
}

/**
 * A check's regular expression: JavaScript syntax, multiline (^ and $ match at each line). Throws
 * SyntaxError when invalid. No "/re/flags" form: the lab parser escapes literal text (which may
 * well start and end with a slash, like "/app/") into a pattern, and it must stay literal.
 */
export function compilePattern(pattern: string): RegExp {
  return new RegExp(pattern, 'm');
}

function badPattern(spec: CheckSpec, pattern: string, expected: string, err: unknown): Verdict {
  const why = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : String(err);
  return authorError(
    expected,
    `This check's pattern ${code(pattern)} is not a valid regular expression (${why}). Lab author: fix it at line ${spec.line} of lab.md.`,
  );
}

function bounds(min: number | undefined, max: number | undefined, fmt: (n: number) => string): string {
  if (min !== undefined && max !== undefined) return min === max ? `exactly ${fmt(min)}` : `between ${fmt(min)} and ${fmt(max)}`;
  if (max !== undefined) return `at most ${fmt(max)}`;
  if (min !== undefined) return `at least ${fmt(min)}`;
  return 'any';
}

// ---- image checks ---------------------------------------------------------------------------------

async function imageExists(spec: Extract<CheckSpec, { kind: 'image.exists' }>, l: Lookup): Promise<Verdict> {
  const img = await l.image(spec.image);
  const expected = spec.exists ? `an image named ${spec.image}` : `no image named ${spec.image}`;
  if (spec.exists) {
    return img
      ? passing(humanSize(img.sizeBytes), expected, `${spec.image} exists (${humanSize(img.sizeBytes)}).`)
      : noImage(spec, expected);
  }
  return img
    ? failing(spec, 'exists', expected, `${spec.image} still exists`, `remove it with ${code(`docker rmi ${spec.image}`)}.`)
    : passing('no such image', expected, `${spec.image} is gone.`);
}

async function imageSize(spec: Extract<CheckSpec, { kind: 'image.size' }>, l: Lookup): Promise<Verdict> {
  const { minBytes: min, maxBytes: max } = spec;
  const expected = min !== undefined && max !== undefined
    ? exactSize(min) && exactSize(max) ? `between ${exactSize(min)} and ${exactSize(max)}` : `${sizeBound('min', min)} and ${sizeBound('max', max)}`
    : max !== undefined ? sizeBound('max', max) : min !== undefined ? sizeBound('min', min) : 'any size';
  const img = await l.image(spec.image);
  if (!img) return noImage(spec, expected);
  const size = img.sizeBytes;
  // When the size and the bound round to the same figure, both are also given in bytes.
  const fail = (kind: 'max' | 'min', limit: number): Verdict => {
    let actual = humanSize(size);
    let bound = sizeBound(kind, limit);
    if (actual === humanSize(limit) || actual === humanSize(kind === 'max' ? limit + 1 : limit - 1)) {
      actual += ` (${size.toLocaleString('en-US')} bytes)`;
      bound += ` (${kind === 'max' ? 'at most' : 'at least'} ${limit.toLocaleString('en-US')} bytes)`;
    }
    return kind === 'max'
      ? failing(spec, actual, expected, `${spec.image} is ${actual}`, 'is the last stage `FROM scratch` (or a small base), copying only the built program?', bound)
      : failing(spec, actual, expected, `${spec.image} is only ${actual}`, 'was it built from the full base image, as this step asks?', bound);
  };
  if (max !== undefined && size > max) return fail('max', max);
  if (min !== undefined && size < min) return fail('min', min);
  return passing(humanSize(size), expected, `${spec.image} is ${humanSize(size)} (${expected}).`);
}

async function imageLayers(spec: Extract<CheckSpec, { kind: 'image.layers' }>, l: Lookup): Promise<Verdict> {
  const expected = bounds(spec.min, spec.max, (n) => plural(n, 'layer'));
  const img = await l.image(spec.image);
  if (!img) return noImage(spec, expected);
  const n = img.layers.length;
  const actual = plural(n, 'layer');
  if ((spec.max !== undefined && n > spec.max) || (spec.min !== undefined && n < spec.min)) {
    return failing(spec, actual, expected, `${spec.image} has ${actual}`,
      spec.max !== undefined && n > spec.max
        ? 'each RUN, COPY and ADD adds one; a final stage `FROM scratch` with one COPY has a single layer.'
        : undefined);
  }
  return passing(actual, expected, `${spec.image} has ${actual} (${expected}).`);
}

async function imageBase(spec: Extract<CheckSpec, { kind: 'image.base' }>, l: Lookup): Promise<Verdict> {
  const scratch = spec.base === 'scratch';
  const expected = scratch
    ? spec.shares ? 'built FROM scratch' : 'not built FROM scratch'
    : spec.shares ? `built on ${spec.base}` : `not built on ${spec.base}`;
  const img = await l.image(spec.image);
  if (!img) return noImage(spec, expected);
  if (scratch) {
    const v = judgeScratch(img, await l.allImages());
    const actual = v.fromScratch ? 'FROM scratch' : 'has a base image';
    const msg = `${spec.image} ${v.reason}`;
    if (v.fromScratch === spec.shares) return passing(actual, expected, `${msg}.`);
    return failing(spec, actual, expected, msg,
      spec.shares ? 'does the last stage start with `FROM scratch`?' : 'this step wants an image with a base OS.');
  }
  const base = await l.image(spec.base);
  if (!base) {
    return {
      status: 'fail', actual: `no image ${spec.base} to compare with`, expected,
      message: `There is no image named ${spec.base} in the sandbox to compare ${spec.image} with — was it removed? ${code(`docker images`)} lists what is there.`,
    };
  }
  const shared = sharedLeadingLayers(img, base);
  const builtOn = base.layers.length > 0 && isPrefix(base.layers, img.layers);
  const actual = builtOn
    ? `contains all ${plural(base.layers.length, 'layer')} of ${spec.base}`
    : `shares ${shared} of ${spec.base}'s ${plural(base.layers.length, 'layer')}`;
  if (builtOn === spec.shares) {
    return passing(actual, expected, builtOn
      ? `${spec.image} is built on ${spec.base}: its first ${plural(base.layers.length, 'layer')} are ${spec.base}'s.`
      : `${spec.image} does not carry ${spec.base} (it ${actual}).`);
  }
  return builtOn
    ? failing(spec, actual, expected, `${spec.image} ${actual} (${humanSize(base.sizeBytes)} of it)`,
      `ship only the build output: copy it into a later stage with ${code('COPY --from=…')}.`)
    : failing(spec, actual, expected, `${spec.image} ${actual}`, `does its Dockerfile start with ${code(`FROM ${spec.base}`)}?`);
}

function configValue(info: ImageInfo, field: ImageConfigField): unknown {
  const c = info.config;
  switch (field) {
    case 'entrypoint': return c.entrypoint;
    case 'cmd': return c.cmd;
    case 'workdir': return c.workdir;
    case 'env': return c.env;
    case 'exposedPorts': return c.exposedPorts;
    case 'labels': return c.labels;
    case 'user': return c.user;
  }
}

/** JSON with object keys sorted, so equal labels compare equal whatever their order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : val);
}

const withProto = (p: string): string => (p.includes('/') ? p : `${p}/tcp`);

function configEquals(field: ImageConfigField, actual: unknown, want: unknown): boolean {
  if (field === 'exposedPorts' && Array.isArray(actual)) {
    const w = (Array.isArray(want) ? want : [want]).map((x) => withProto(String(x))).sort();
    return canonical([...actual].sort()) === canonical(w);
  }
  if (Array.isArray(actual) && typeof want === 'string') {
    // "./app" for ["./app"], and the shell form `CMD ./app` that Docker stores as ["/bin/sh","-c","./app"].
    return actual.join(' ') === want || canonical(actual) === canonical(['/bin/sh', '-c', want]);
  }
  if (actual === null && (want === null || (Array.isArray(want) && want.length === 0))) return true;
  if (typeof actual === 'string' && typeof want === 'number') return actual === String(want);
  return canonical(actual) === canonical(want);
}

function configContains(field: ImageConfigField, actual: unknown, needle: string): boolean {
  if (actual === null || actual === undefined) return false;
  if (typeof actual === 'string') return actual.includes(needle);
  if (Array.isArray(actual)) {
    const items = actual.map(String);
    if (field === 'exposedPorts') return items.includes(withProto(needle));
    return items.some((x) => x === needle || x.includes(needle)) || items.join(' ').includes(needle);
  }
  const entries = Object.entries(actual as Record<string, string>);
  return entries.some(([k, v]) => k === needle || `${k}=${v}`.includes(needle));
}

function showConfig(v: unknown): string {
  if (v === null || v === undefined || v === '') return 'not set';
  if (Array.isArray(v) && v.length === 0) return 'not set';
  if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return 'not set';
  return clip(typeof v === 'string' ? v : JSON.stringify(v), 120);
}

const FIELD_WORD: Record<ImageConfigField, string> = {
  entrypoint: 'ENTRYPOINT', cmd: 'CMD', workdir: 'WORKDIR', env: 'ENV', exposedPorts: 'EXPOSE', labels: 'LABEL', user: 'USER',
};

async function imageConfig(spec: Extract<CheckSpec, { kind: 'image.config' }>, l: Lookup): Promise<Verdict> {
  const word = FIELD_WORD[spec.field];
  const expected = spec.equals !== undefined
    ? `${word} ${showConfig(spec.equals)}`
    : spec.contains !== undefined ? `${word} containing ${quote(spec.contains)}` : `${word} set`;
  const img = await l.image(spec.image);
  if (!img) return noImage(spec, expected);
  const value = configValue(img, spec.field);
  const actual = `${word} ${showConfig(value)}`;
  const ok = spec.equals !== undefined
    ? configEquals(spec.field, value, spec.equals)
    : spec.contains !== undefined ? configContains(spec.field, value, spec.contains) : showConfig(value) !== 'not set';
  if (ok) return passing(actual, expected, `${spec.image} has ${actual}.`);
  return failing(spec, actual, expected, `${spec.image} has ${actual}`,
    `check the ${code(word)} line of the Dockerfile (the last stage's counts), then build again.`);
}

async function imagePath(spec: Extract<CheckSpec, { kind: 'image.path' }>, ctx: CheckContext, l: Lookup): Promise<Verdict> {
  const expected = spec.exists ? `${spec.path} in the image` : `no ${spec.path} in the image`;
  const img = await l.image(spec.image);
  if (!img) return noImage(spec, expected);
  const has = await ctx.engine.imageHasPath(spec.image, spec.path);
  const actual = has ? `${spec.path} present` : `no ${spec.path}`;
  if (has === spec.exists) {
    return passing(actual, expected, has ? `${spec.image} contains ${spec.path}.` : `${spec.image} has no ${spec.path}.`);
  }
  return has
    ? failing(spec, actual, expected, `${spec.image} still contains ${spec.path}`, 'only the build output should reach the final stage.')
    : failing(spec, actual, expected, `${spec.image} has no ${spec.path}`, `is there a ${code('COPY')} that puts it there?`);
}

/** Reads a file from the sandbox. exit 2 = missing, 3 = not a regular file. */
async function readSandboxFile(ctx: CheckContext, file: string, timeoutMs: number): Promise<{ ok: true; text: string; truncated: boolean } | { ok: false; why: 'missing' | 'not-a-file' | 'error'; detail: string }> {
  const r = await ctx.exec(
    ['sh', '-c', 'if [ ! -e "$1" ]; then exit 2; elif [ ! -f "$1" ]; then exit 3; fi; head -c "$2" -- "$1"', 'read', file, String(MAX_FILE_BYTES + 1)],
    { timeoutMs },
  );
  if (r.timedOut) throw new CheckTimeout();
  if (r.exitCode === 2) return { ok: false, why: 'missing', detail: '' };
  if (r.exitCode === 3) return { ok: false, why: 'not-a-file', detail: '' };
  if (r.exitCode !== 0) return { ok: false, why: 'error', detail: clip(r.stderr || `exit code ${r.exitCode}`) };
  const truncated = Buffer.byteLength(r.stdout) > MAX_FILE_BYTES;
  return { ok: true, text: r.stdout, truncated };
}

async function imageTarget(spec: Extract<CheckSpec, { kind: 'image.target' }>, ctx: CheckContext, l: Lookup, deadline: number): Promise<Verdict> {
  const expected = `the ${code(spec.stage)} stage of ${spec.dockerfile} (docker build --target ${spec.stage})`;
  const img = await l.image(spec.image);
  if (!img) return noImage(spec, expected);
  const file = path.posix.resolve(ctx.workdir, spec.dockerfile);
  const read = await readSandboxFile(ctx, file, Math.max(1, deadline - ctx.now()));
  if (!read.ok) {
    const why = read.why === 'missing' ? `There is no ${spec.dockerfile} in the sandbox`
      : read.why === 'not-a-file' ? `${spec.dockerfile} is not a file` : `Could not read ${spec.dockerfile} (${read.detail})`;
    return { status: 'fail', actual: 'no Dockerfile', expected, message: `${why}, so ${spec.image} can't be compared with its ${code(spec.stage)} stage — run the block that creates it.` };
  }
  const df = parseDockerfile(read.text);
  const stage = findStage(df, spec.stage);
  if (!stage) {
    const names = df.stages.map((s) => s.name ?? String(s.index)).join(', ') || 'none';
    return failing(spec, 'no such stage', expected, `${spec.dockerfile} has no stage named ${code(spec.stage)} (its stages: ${names})`,
      `name the stage with ${code(`FROM … AS ${spec.stage}`)}.`);
  }
  const final = df.stages[df.stages.length - 1]!;
  const rootOf = async (s: typeof stage): Promise<ImageInfo | null | 'scratch'> => {
    const { root } = stageChain(df, s);
    return root.toLowerCase() === 'scratch' ? 'scratch' : l.image(root);
  };
  const m = matchStage(img, df, stage, await rootOf(stage));
  const isFinal = stage.index === final.index;
  const mf = isFinal ? m : matchStage(img, df, final, await rootOf(final));
  const finalName = final.name ? code(final.name) : `(${code(`FROM ${final.from}`)})`;
  const note = m.baseCompared ? '' : ` (its base image is not in the sandbox, so only its last build steps were compared)`;
  if (m.matches && (isFinal || !mf.matches)) {
    const tail = isFinal ? `; ${code(spec.stage)} is also the final stage` : `, and it is not the final stage ${finalName}`;
    return passing(`stage ${spec.stage}`, expected, `${spec.image} is the ${code(spec.stage)} stage: ${m.reason}${tail}${note}.`);
  }
  if (m.matches && mf.matches) {
    return passing(`stage ${spec.stage}`, expected,
      `${spec.image} matches the ${code(spec.stage)} stage (${m.reason}); the final stage adds no build steps after it, so the two look the same.`);
  }
  if (mf.matches) {
    return failing(spec, `final stage ${final.name ?? final.index}`, expected,
      `${spec.image} is the final stage ${finalName}, not ${code(spec.stage)}: ${mf.reason}`,
      `build it with ${code(`docker build --target ${spec.stage} -t ${spec.image} …`)}.`);
  }
  return failing(spec, 'another image', expected, `${spec.image} is not the ${code(spec.stage)} stage: ${m.reason}${note}`,
    `build it with ${code(`docker build --target ${spec.stage} -t ${spec.image} …`)} from this Dockerfile.`);
}

// ---- container checks -----------------------------------------------------------------------------

async function containerState(spec: Extract<CheckSpec, { kind: 'container.state' }>, l: Lookup): Promise<Verdict> {
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

async function containerPort(spec: Extract<CheckSpec, { kind: 'container.port' }>, l: Lookup): Promise<Verdict> {
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

async function containerLogs(spec: Extract<CheckSpec, { kind: 'container.logs' }>, ctx: CheckContext, l: Lookup): Promise<Verdict> {
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

async function containerGone(spec: Extract<CheckSpec, { kind: 'container.gone' }>, l: Lookup): Promise<Verdict> {
  const expected = `no container named ${spec.container}`;
  const c = await l.container(spec.container);
  if (!c) return passing('no such container', expected, `${spec.container} is gone.`);
  const actual = c.state === 'exited' ? `exited with code ${c.exitCode ?? '?'}` : c.state;
  return failing(spec, actual, expected, `${spec.container} is still there (${actual})`,
    `remove it with ${code(`docker rm -f ${spec.container}`)}.`);
}

// ---- file and command checks ----------------------------------------------------------------------

async function fileExists(spec: Extract<CheckSpec, { kind: 'file.exists' }>, ctx: CheckContext, deadline: number): Promise<Verdict> {
  const expected = spec.exists ? `a file at ${spec.path}` : `nothing at ${spec.path}`;
  const file = path.posix.resolve(ctx.workdir, spec.path);
  const r = await ctx.exec(['test', '-e', file], { timeoutMs: Math.max(1, deadline - ctx.now()) });
  if (r.timedOut) throw new CheckTimeout();
  if (r.exitCode > 1) throw new Error(clip(r.stderr || `test exited with ${r.exitCode}`));
  const has = r.exitCode === 0;
  const actual = has ? 'exists' : 'missing';
  if (has === spec.exists) return passing(actual, expected, has ? `${spec.path} exists.` : `${spec.path} is gone.`);
  return has
    ? failing(spec, actual, expected, `${spec.path} is still there`, undefined)
    : failing(spec, actual, expected, `There is no ${spec.path} yet`, 'run the block above that creates it.');
}

async function fileContains(spec: Extract<CheckSpec, { kind: 'file.contains' }>, ctx: CheckContext, deadline: number): Promise<Verdict> {
  const expected = `${spec.path} matching ${code(spec.pattern)}`;
  let re: RegExp;
  try {
    re = compilePattern(spec.pattern);
  } catch (err) {
    return badPattern(spec, spec.pattern, expected, err);
  }
  const file = path.posix.resolve(ctx.workdir, spec.path);
  const read = await readSandboxFile(ctx, file, Math.max(1, deadline - ctx.now()));
  if (!read.ok) {
    if (read.why === 'missing') return failing(spec, 'missing', expected, `There is no ${spec.path} yet`, 'run the block above that creates it.');
    if (read.why === 'not-a-file') return failing(spec, 'not a file', expected, `${spec.path} is a folder, not a file`, undefined);
    throw new Error(`could not read ${spec.path}: ${read.detail}`);
  }
  const text = read.truncated ? read.text.slice(0, MAX_FILE_BYTES) : read.text;
  const m = re.exec(text);
  if (m) {
    const lineNo = text.slice(0, m.index).split('\n').length;
    return passing(`matches at line ${lineNo}`, expected, `${spec.path} matches ${code(spec.pattern)} at line ${lineNo}.`);
  }
  const size = read.truncated ? `its first ${humanSize(MAX_FILE_BYTES)}` : plural(text.split('\n').length - (text.endsWith('\n') ? 1 : 0), 'line');
  return failing(spec, 'no match', expected, `${spec.path} (${size}) has nothing matching ${code(spec.pattern)}`,
    'compare it with the lab text; did the block that writes it run completely?');
}

async function command(spec: Extract<CheckSpec, { kind: 'command' }>, ctx: CheckContext, deadline: number): Promise<Verdict> {
  const wantCode = spec.exitCode ?? 0;
  const parts = [`exit code ${wantCode}`];
  if (spec.stdoutContains !== undefined) parts.push(`output containing ${quote(spec.stdoutContains)}`);
  if (spec.stdoutMatches !== undefined) parts.push(`output matching ${code(spec.stdoutMatches)}`);
  const expected = parts.join(' and ');
  let re: RegExp | undefined;
  if (spec.stdoutMatches !== undefined) {
    try {
      re = compilePattern(spec.stdoutMatches);
    } catch (err) {
      return badPattern(spec, spec.stdoutMatches, expected, err);
    }
  }
  // Stop the command a little before the check's own limit, so the learner hears which command hung.
  const left = deadline - ctx.now();
  // The driver's exec limit has whole-second granularity, so round down when there are seconds to spare.
  const budget = left >= 2_000 ? Math.floor((left - 500) / 1000) * 1000 : Math.max(1, left - Math.min(500, left / 10));
  // The command text is passed as an argument, never spliced into the script, so no quoting can break it.
  const r = await ctx.exec(['bash', '-lc', 'cd -- "$1" && eval "$2"', 'check', ctx.workdir, spec.run], { timeoutMs: budget });
  const shown = code(clip(spec.run, 60));
  if (r.timedOut) {
    return { status: 'fail', actual: 'still running', expected, problem: 'timeout',
      message: `${shown} was still running after ${seconds(budget)} and was stopped — does it wait for input or run a server in the foreground?` };
  }
  const out = r.stdout.trim();
  const lastOut = out.split('\n').pop() ?? '';
  const lastErr = r.stderr.trim().split('\n').pop() ?? '';
  if (r.exitCode !== wantCode) {
    const said = lastErr || lastOut;
    return failing(spec, `exit code ${r.exitCode}`, expected, `${shown} exited with code ${r.exitCode}${said ? ` (${quote(clip(said, 100))})` : ''}`, undefined);
  }
  if (spec.stdoutContains !== undefined && !r.stdout.includes(spec.stdoutContains)) {
    return failing(spec, out ? `printed ${quote(clip(lastOut, 80))}` : 'printed nothing', expected,
      `${shown} ${out ? `printed ${quote(clip(out, 100))}` : 'printed nothing'}`, undefined);
  }
  if (re && !re.test(r.stdout)) {
    return failing(spec, out ? `printed ${quote(clip(lastOut, 80))}` : 'printed nothing', expected,
      `${shown} ${out ? `printed ${quote(clip(out, 100))}` : 'printed nothing'}`, undefined);
  }
  return passing(`exit code ${r.exitCode}${out ? `, printed ${quote(clip(lastOut, 60))}` : ''}`, expected, `${shown} ${out ? `printed ${quote(clip(lastOut, 80))}` : 'succeeded'}.`);
}

// ---- running checks -------------------------------------------------------------------------------

class CheckTimeout extends Error {}

function expectedFallback(spec: CheckSpec): string {
  return spec.title ?? spec.kind;
}

async function run(spec: CheckSpec, ctx: CheckContext, l: Lookup, deadline: number): Promise<Verdict> {
  switch (spec.kind) {
    case 'image.exists': return imageExists(spec, l);
    case 'image.size': return imageSize(spec, l);
    case 'image.layers': return imageLayers(spec, l);
    case 'image.base': return imageBase(spec, l);
    case 'image.config': return imageConfig(spec, l);
    case 'image.path': return imagePath(spec, ctx, l);
    case 'image.target': return imageTarget(spec, ctx, l, deadline);
    case 'container.state': return containerState(spec, l);
    case 'container.port': return containerPort(spec, l);
    case 'container.logs': return containerLogs(spec, ctx, l);
    case 'container.gone': return containerGone(spec, l);
    case 'file.exists': return fileExists(spec, ctx, deadline);
    case 'file.contains': return fileContains(spec, ctx, deadline);
    case 'command': return command(spec, ctx, deadline);
    default: {
      const never: never = spec;
      const kind = (never as { kind: string }).kind;
      return authorError(kind, `This lab uses a check kind ${code(kind)} that this server does not know.`);
    }
  }
}

function timedOut(spec: CheckSpec, ms: number): Verdict {
  return {
    status: 'fail', actual: 'timed out', expected: expectedFallback(spec), problem: 'timeout',
    message: `The check timed out after ${seconds(ms)} — the sandbox may be busy (a build running?). It will be checked again; or click Check.`,
  };
}

async function evaluateWith(spec: CheckSpec, ctx: CheckContext, l: Lookup, timeoutMs: number): Promise<CheckResult> {
  const started = ctx.now();
  const deadline = started + timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => resolve(timedOut(spec, timeoutMs)), timeoutMs);
  });
  const work = run(spec, ctx, l, deadline).catch((err: unknown): Verdict => {
    if (err instanceof CheckTimeout) return timedOut(spec, timeoutMs);
    const why = err instanceof Error ? err.message : String(err);
    return {
      status: 'fail', actual: 'engine error', expected: expectedFallback(spec), problem: 'engine',
      message: `Couldn't ask the sandbox (${clip(why, 120)}). It may be restarting; the check will run again.`,
    };
  });
  // A hung engine call keeps running in the background; its late answer is dropped.
  const v = await Promise.race([work, limit]);
  clearTimeout(timer);
  const result: CheckResult = { id: spec.id, status: v.status, expected: v.expected, message: v.message, at: started, durationMs: Math.max(0, ctx.now() - started) };
  if (v.actual !== undefined) result.actual = v.actual;
  if (v.problem) result.problem = v.problem;
  return result;
}

/** Evaluates one check; never throws. */
export function evaluateCheck(spec: CheckSpec, ctx: CheckContext, opts: EvaluateOptions = {}): Promise<CheckResult> {
  return evaluateWith(spec, ctx, createLookup(ctx.engine), opts.timeoutMs ?? TUNING.checkTimeoutMs);
}

/** Evaluates a step's checks in parallel (sharing engine lookups), each under its own time limit. Results are in `specs` order. */
export function evaluateChecks(specs: readonly CheckSpec[], ctx: CheckContext, opts: EvaluateOptions = {}): Promise<CheckResult[]> {
  const l = createLookup(ctx.engine);
  const ms = opts.timeoutMs ?? TUNING.checkTimeoutMs;
  return Promise.all(specs.map((s) => evaluateWith(s, ctx, l, ms)));
}
