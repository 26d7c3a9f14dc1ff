// Katacoda scenarios: index.json with details.{intro,steps,finish} and environment, step pages with
// {{execute}} actions, verify scripts (our command checks), courseData/code scripts (our step set-up)
// and assets copied where index.json says. Killercoda inherited the layout, so its own {{exec}}
// syntax is understood here too (killercoda.ts).
import { convertText } from './killercoda.ts';
import { type ImportNote, type ImportResult, type ImportSource, type LabImporter, fence, frontMatter, lineAt, nestHeadings, oneLine, openLink, portLink, scriptCheck, setupBlock, termsUsed, workspacePath } from './importer.ts';

interface KStep {
  title?: unknown;
  text?: unknown;
  verify?: unknown;
  courseData?: unknown;
  code?: unknown;
  background?: unknown;
  foreground?: unknown;
}

/** {{execute}} flags: T2 / HOST2 pick a terminal, interrupt sends Ctrl-C first, no-newline leaves Enter to the learner. */
function actionInfo(flags: string, note: (msg: string) => void): string {
  let term = 1;
  const extra: string[] = [];
  for (const f of flags.trim().split(/\s+/).filter(Boolean)) {
    const t = /^(?:T|HOST)(\d+)$/i.exec(f);
    if (t) term = Math.max(1, Math.min(6, Number(t[1])));
    else if (/^interrupt$/i.test(f)) extra.push('interrupt');
    else if (/^no-?newline$/i.test(f)) extra.push('no-newline');
    else if (/^(?:clear|wait)$/i.test(f)) continue; // a fresh screen / waiting is what our queue does anyway
    else note(`{{execute ${flags.trim()}}}: "${f}" is not an option this server knows (T2, HOST2, interrupt, no-newline); the block runs without it`);
  }
  return `.term${term}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

/** One Katacoda page in our syntax; `note(offset, msg)` reports a warning at a character of the page. */
export function convertKatacodaText(md: string, note: (line: number, msg: string) => void): string {
  const src = md.replace(/\r\n?/g, '\n');
  let out = src.replace(/```[^\n]*\n((?:(?!```)[\s\S])*?)\n```\{\{execute([^}]*)\}\}/g, (_m, body: string, flags: string, at: number) =>
    fence(actionInfo(flags, (m) => note(lineAt(src, at), m)), body));
  out = out.replace(/`([^`\n]+)`\{\{execute([^}]*)\}\}/g, (_m, cmd: string, flags: string) => {
    const warn = (m: string) => note(lineAt(src, src.indexOf(cmd)), m);
    // A control sequence: ^C is our interrupt; others cannot be typed by a click here.
    if (/\bctrl-seq\b/.test(flags)) {
      if (cmd.trim() === '^C') return '\n\n' + fence(`${actionInfo(flags.replace(/\bctrl-seq\b/, ''), warn)} interrupt`, '# Ctrl-C') + '\n\n';
      warn(`{{execute ctrl-seq}} "${cmd}": only ^C can be sent by a click here; it is shown to copy`);
      return '`' + cmd + '`';
    }
    return '\n\n' + fence(actionInfo(flags, warn), cmd) + '\n\n';
  });
  // `path/to/file`{{open}}: the editor opens it.
  out = out.replace(/`([^`\n]+)`\{\{open\}\}/g, (_m, p: string) => openLink(p, workspacePath(p)));
  // https://[[HOST_SUBDOMAIN]]-8080-[[KATACODA_HOST]].environments.katacoda.com/path
  const hostUrl = /(?:https?:\/\/)?\[\[HOST(\d*)_SUBDOMAIN\]\]-(\d+)-\[\[KATACODA_HOST\]\][\w.-]*(\/[^\s)\]]*)?/;
  out = out.replace(new RegExp(`\\[([^\\]\\n]*)\\]\\(${hostUrl.source}\\)`, 'g'), (_m, text: string, host: string, port: string, path?: string) =>
    portLink(text || `port ${port}`, Number(host || 1), Number(port), path ?? '/'));
  out = out.replace(new RegExp(hostUrl.source, 'g'), (_m, host: string, port: string, path?: string) =>
    portLink(`port ${port} on node${host || 1}`, Number(host || 1), Number(port), path ?? '/'));
  // Killercoda's {{exec}}, {{copy}}, {{TRAFFIC_HOST1_8080}} and dropdowns.
  out = convertText(out);
  for (const m of out.matchAll(/\{\{(execute|exec|copy|open)[^}]*\}\}/g)) note(1, `"${m[0]}" is not attached to a code span or block, so it shows as text`);
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export const katacodaImporter: LabImporter = {
  format: 'katacoda',
  detect(src) {
    if (!src.files.has('index.json')) return undefined;
    const text = src.read('index.json') ?? '';
    // Katacoda's own keys, or its {{execute}} actions in a page; otherwise Killercoda reads it.
    if (/"(environment|pathwayTitle|courseData)"\s*:/.test(text)) return 'index.json';
    for (const f of src.files) if (/\.md$/i.test(f) && /\{\{execute\b/.test(src.read(f) ?? '')) return 'index.json';
    return undefined;
  },
  convert(src) {
    return katacodaToMarkdown(src);
  },
};

export function katacodaToMarkdown(src: ImportSource): ImportResult {
  const problems: ImportNote[] = [];
  const warnings: ImportNote[] = [];
  let index: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(src.read('index.json') ?? '');
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be an object');
    index = parsed as Record<string, unknown>;
  } catch (e) {
    return { markdown: '', problems: [{ file: 'index.json', line: 1, message: `index.json is not valid JSON: ${(e as Error).message}` }], warnings, workspace: '' };
  }
  const details = (index.details ?? {}) as Record<string, unknown>;
  const readPage = (rel: unknown, what: string): { text: string; file: string } => {
    const p = str(rel);
    if (!p) return { text: '', file: '' };
    const file = p.replace(/^\.\//, '');
    const text = src.read(file);
    if (text === undefined) warnings.push({ file: 'index.json', line: 1, message: `${what} names "${p}", which is not in the scenario folder; it is left out` });
    return { text: text ?? '', file };
  };
  const page = (rel: unknown, what: string): string => {
    const { text, file } = readPage(rel, what);
    if (!text) return '';
    return nestHeadings(convertKatacodaText(text, (line, message) => warnings.push({ file, line, message })));
  };
  const setups = (s: KStep, what: string): string[] => {
    const out: string[] = [];
    for (const key of ['courseData', 'code', 'background', 'foreground'] as const) {
      const { text } = readPage(s[key], `${what}.${key}`);
      if (text.trim()) out.push(setupBlock(text));
    }
    return out;
  };

  const title = oneLine(index.title, 'Untitled scenario');
  const parts: string[] = [];
  const intro = (details.intro ?? {}) as KStep;
  const introSetup = [...setups(intro, 'details.intro'), ...assetSetup(details.assets, src, warnings)];
  const introText = page(intro.text, 'details.intro.text');
  if (introText || introSetup.length) parts.push(introText, ...introSetup, '');

  const steps = Array.isArray(details.steps) ? (details.steps as KStep[]) : [];
  if (!Array.isArray(details.steps)) warnings.push({ file: 'index.json', line: 1, message: 'details.steps is missing or not a list: the scenario has no steps' });
  steps.forEach((s, i) => {
    const stepTitle = oneLine(s.title, `Step ${i + 1}`);
    parts.push(`## ${stepTitle}`, '', ...setups(s, `details.steps[${i}]`), page(s.text, `details.steps[${i}].text`), '');
    const { text: verify } = readPage(s.verify, `details.steps[${i}].verify`);
    if (verify.trim()) parts.push(scriptCheck(verify, `The check script of "${stepTitle}" passes`), '');
  });
  const finish = page((details.finish as KStep | undefined)?.text, 'details.finish.text');
  if (finish) parts.push('## Finished', '', finish, '');

  const body = parts.join('\n');
  const env = (index.environment ?? {}) as Record<string, unknown>;
  const fm = frontMatter({
    title,
    description: str(index.description),
    difficulty: str(index.difficulty),
    duration: str(index.time),
    terms: termsUsed(body),
    format: 'katacoda',
    katacoda_image: str((index.backend as Record<string, unknown> | undefined)?.imageid) ?? str(env.imageid),
  });
  return { markdown: `${fm}\n${body}`, problems, warnings, workspace: null };
}

/**
 * details.assets: { host01: [{ file, target, chmod }] }, files under assets/. Each is written where
 * it says by the first step's set-up, so targets other than the working directory work too.
 */
function assetSetup(assets: unknown, src: ImportSource, warnings: ImportNote[]): string[] {
  if (!assets || typeof assets !== 'object') return [];
  const out: string[] = [];
  for (const [host, list] of Object.entries(assets as Record<string, unknown>)) {
    // host01, host02…: each host's assets are written into its own node's sandbox.
    const named = /^host0*(\d+)$/i.exec(host);
    const n = named ? Number(named[1]) : 1;
    if (!named || n < 1) warnings.push({ file: 'index.json', line: 1, message: `assets for "${host}" are copied to node1 (a host is named host01, host02…)` });
    if (n > 6) warnings.push({ file: 'index.json', line: 1, message: `assets for "${host}" are copied to node6: this server gives a lab at most 6 nodes` });
    const node = Math.min(6, Math.max(1, n));
    const lines: string[] = [];
    for (const a of Array.isArray(list) ? list : []) {
      const file = str((a as Record<string, unknown>).file);
      const target = str((a as Record<string, unknown>).target) ?? '/root';
      if (!file) continue;
      if (/[*?]/.test(file)) {
        const re = new RegExp('^' + file.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
        for (const f of src.files) if (f.startsWith('assets/') && re.test(f.slice(7))) lines.push(...writeAsset(f, f.slice(7), target, a, src, warnings));
        continue;
      }
      lines.push(...writeAsset(`assets/${file}`, file, target, a, src, warnings));
    }
    if (lines.length) out.push(setupBlock(lines.join('\n'), node));
  }
  return out;
}

function writeAsset(rel: string, name: string, target: string, a: Record<string, unknown>, src: ImportSource, warnings: ImportNote[]): string[] {
  const text = src.read(rel);
  if (text === undefined) {
    warnings.push({ file: 'index.json', line: 1, message: `asset "${rel}" is not in the scenario folder; it is not copied` });
    return [];
  }
  if (text.includes('\u0000')) {
    warnings.push({ file: 'index.json', line: 1, message: `asset "${rel}" is binary; it is not copied (set-up scripts carry text)` });
    return [];
  }
  const dest = `${target.replace(/\/+$/, '')}/${name}`;
  let tag = 'LABLAB_ASSET';
  while (text.includes(tag)) tag += '_';
  const out = [`mkdir -p ${sh(dest.replace(/\/[^/]*$/, '') || '/')}`, `cat > ${sh(dest)} <<'${tag}'`, text.replace(/\n?$/, ''), tag];
  const chmod = typeof a.chmod === 'string' || typeof a.chmod === 'number' ? String(a.chmod) : undefined;
  if (chmod && /^[+\-=0-7rwxXugoa,]+$/.test(chmod)) out.push(`chmod ${chmod} ${sh(dest)}`);
  return out;
}

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
