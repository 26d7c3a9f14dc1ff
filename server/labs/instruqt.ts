// Instruqt tracks: track.yml, config.yml (the hosts) and NN-slug/assignment.md per challenge, with
// setup-<host> / check-<host> scripts beside it (and track_scripts/ for the whole track).
// ```bash,run fences are click-to-run; check scripts are our checks (exit 0 passes, the "FAIL:" line
// is the reason); setup scripts are step set-up; terminal tabs are our nodes, service tabs port links.
import { type ImportNote, type ImportResult, type ImportSource, type LabImporter, fence, frontMatter, naturalSort, nestHeadings, oneLine, portLink, readYaml, scriptCheck, setupBlock, splitPage } from './importer.ts';

/** Instruqt's helpers a check script may call. fail-message prints the reason our check shows. */
const CHECK_PRELUDE = 'fail-message() { echo "FAIL: $*"; exit 1; }\nset-workdir() { cd "$1" 2>/dev/null || true; }';

export const instruqtImporter: LabImporter = {
  format: 'instruqt',
  detect: (src) => (src.files.has('track.yml') || src.files.has('track.yaml') ? (src.files.has('track.yml') ? 'track.yml' : 'track.yaml') : undefined),
  convert: instruqtToMarkdown,
};

export function instruqtToMarkdown(src: ImportSource): ImportResult {
  const warnings: ImportNote[] = [];
  const main = src.files.has('track.yml') ? 'track.yml' : 'track.yaml';
  const track = (readYaml(src.read(main), main, warnings) ?? {}) as Record<string, unknown>;
  const config = (readYaml(src.read('config.yml'), 'config.yml', warnings) ?? {}) as Record<string, unknown>;
  // Hosts in config.yml order are our nodes 1..6.
  const hosts: string[] = [];
  for (const key of ['containers', 'virtualmachines', 'virtualbrowsers']) {
    for (const h of Array.isArray(config[key]) ? (config[key] as Array<Record<string, unknown>>) : []) if (typeof h.name === 'string') hosts.push(h.name);
  }
  const node = (host: unknown, file: string): number => {
    if (typeof host !== 'string') return 1;
    let i = hosts.indexOf(host);
    if (i < 0) {
      hosts.push(host);
      i = hosts.length - 1;
    }
    if (i >= 6) warnings.push({ file, line: 1, message: `host "${host}" is the ${i + 1}th; this server gives a lab at most 6 nodes, so it shares node 6` });
    return Math.min(6, i + 1);
  };

  const scripts = (dir: string, kind: 'setup' | 'check'): Array<{ host: string; text: string }> =>
    [...src.files]
      .filter((f) => f.startsWith(dir) && new RegExp(`^${kind}-[\\w.-]+$`).test(f.slice(dir.length)))
      .sort(naturalSort)
      .map((f) => ({ host: f.slice(dir.length + kind.length + 1), text: src.read(f) ?? '' }));

  const challenges = [...src.files].filter((f) => /^[^/]+\/assignment\.md$/.test(f)).sort(naturalSort);
  if (challenges.length === 0) warnings.push({ file: main, line: 1, message: 'no NN-slug/assignment.md: the track has no challenges' });
  const parts: string[] = [];
  const trackSetup = scripts('track_scripts/', 'setup');
  challenges.forEach((file, i) => {
    const dir = file.slice(0, file.lastIndexOf('/') + 1);
    const page = splitPage(src.read(file) ?? '');
    if (page.error) warnings.push({ file, line: 1, message: `front matter is not valid YAML (${page.error})` });
    const title = oneLine(page.data.title, dir.slice(0, -1).replace(/^\d+-/, '').replace(/-/g, ' '));
    parts.push(`## ${title}`, '');
    if (typeof page.data.teaser === 'string') parts.push(`*${page.data.teaser.trim()}*`, '');
    const setups = [...(i === 0 ? trackSetup : []), ...scripts(dir, 'setup')];
    // setup-<host> prepares that host's node.
    for (const s of setups) parts.push(setupBlock(s.text, node(s.host, file)), '');
    // Tabs: terminals are nodes; services are port links.
    const tabs = Array.isArray(page.data.tabs) ? (page.data.tabs as Array<Record<string, unknown>>) : [];
    const links: string[] = [];
    for (const t of tabs) {
      if (t.type === 'terminal') node(t.hostname, file);
      else if (t.type === 'service' && typeof t.port === 'number') links.push(`- ${portLink(oneLine(t.title, `port ${t.port}`), node(t.hostname, file), t.port, typeof t.path === 'string' ? t.path : '/')}`);
      else if (t.type === 'website' && typeof t.url === 'string') links.push(`- [${oneLine(t.title, t.url)}](${t.url})`);
    }
    if (links.length) parts.push(...links, '');
    const firstTerm = tabs.find((t) => t.type === 'terminal');
    const term = firstTerm ? node(firstTerm.hostname, file) : 1;
    parts.push(nestHeadings(convertAssignment(page.body, term, file, page.bodyLine, warnings), 1), '');
    // check-<host> runs on that host's node.
    for (const c of scripts(dir, 'check')) {
      const n = node(c.host, file);
      parts.push(scriptCheck(`${CHECK_PRELUDE}\n${c.text.replace(/^#!.*\n/, '')}`, `The check of "${title}" passes`, n === 1 ? { fail_line: 'FAIL:' } : { fail_line: 'FAIL:', node: n }), '');
    }
  });
  const body = parts.join('\n');
  const fm = frontMatter({
    title: oneLine(track.title, 'Untitled track'),
    description: typeof track.teaser === 'string' ? track.teaser.trim() : typeof track.description === 'string' ? track.description.trim().split('\n')[0] : undefined,
    terms: Math.max(1, Math.min(6, hosts.length || 1)),
    format: 'instruqt',
  });
  return { markdown: `${fm}\n${body}`, problems: [], warnings, workspace: null };
}

/** ```bash,run → a run block in the challenge's first terminal; other fences stay code. */
function convertAssignment(body: string, term: number, file: string, bodyLine: number, warnings: ImportNote[]): string {
  const lines = body.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const f = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*$/.exec(lines[i]!);
    if (!f) {
      out.push(lines[i]!);
      continue;
    }
    const [, indent, ticks, info] = f;
    const opts = info!.split(',').map((s) => s.trim().toLowerCase());
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j]!.trim().startsWith(ticks!) && /^\s*[`~]+\s*$/.test(lines[j]!)) break;
      code.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!.trimStart());
    }
    if (j >= lines.length) warnings.push({ file, line: bodyLine + i, message: `code block opened here with ${ticks} is never closed; it runs to the end of the page` });
    const info2 = opts.includes('run') ? `.term${term}` : opts.includes('nocopy') ? opts[0]! : opts[0]!;
    out.push(...fence(info2, code.join('\n')).split('\n').map((x) => indent + x));
    i = j;
  }
  return out.join('\n');
}
