// Checks on images: existence, size, layers, base, config, paths inside, and the --target stage.
import path from 'node:path';
import type {  ImageInfo } from '../../sandbox/driver/types.ts';
import { findStage, parseDockerfile, stageChain } from './dockerfile.ts';
import { clip, exactSize, humanSize, plural, sizeBound } from './format.ts';
import { isPrefix, judgeScratch, matchStage, sharedLeadingLayers } from './images.ts';
import type {  CheckSpec, ImageConfigField } from './types.ts';
import { type CheckContext, type Lookup, type Verdict, bounds, code, failing, noImage, passing, quote, readSandboxFile } from './verdict.ts';

// ---- image checks ---------------------------------------------------------------------------------

export async function imageExists(spec: Extract<CheckSpec, { kind: 'image.exists' }>, l: Lookup): Promise<Verdict> {
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

export async function imageSize(spec: Extract<CheckSpec, { kind: 'image.size' }>, l: Lookup): Promise<Verdict> {
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

export async function imageLayers(spec: Extract<CheckSpec, { kind: 'image.layers' }>, l: Lookup): Promise<Verdict> {
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

export async function imageBase(spec: Extract<CheckSpec, { kind: 'image.base' }>, l: Lookup): Promise<Verdict> {
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

export async function imageConfig(spec: Extract<CheckSpec, { kind: 'image.config' }>, l: Lookup): Promise<Verdict> {
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

export async function imagePath(spec: Extract<CheckSpec, { kind: 'image.path' }>, ctx: CheckContext, l: Lookup): Promise<Verdict> {
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

export async function imageTarget(spec: Extract<CheckSpec, { kind: 'image.target' }>, ctx: CheckContext, l: Lookup, deadline: number): Promise<Verdict> {
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

