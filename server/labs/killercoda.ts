import type { LabImporter } from './importer.ts';
// Killercoda-style scenarios as a second lab format: a folder with index.json (title, intro,
// steps with text.md and verify.sh, finish). Pure: the scenario becomes our own lab Markdown,
// which then goes through the same renderer, checks and validation as any lab.md.

export interface ScenarioConversion {
  markdown: string;
  /** Problems with the scenario itself (bad JSON, a missing step file), as messages for index.json. */
  problems: string[];
}

interface ScenarioStep {
  title?: unknown;
  text?: unknown;
  verify?: unknown;
}

/**
 * Killercoda's actions in our syntax:
 * - ```…```{{exec}} and `cmd`{{exec}} become run blocks; {{exec interrupt}} ones send Ctrl-C first;
 * - {{copy}} ones become copy-only blocks (a Copy button, never run);
 * - {{TRAFFIC_HOST1_8080}} (in a link or bare) becomes a link to that port of that node;
 * - <details><summary> dropdowns get each tag on its own line, which the renderer folds.
 */
export function convertText(md: string): string {
  const norm = md.replace(/\r\n?/g, '\n');
  const run = (body: string, flag: string | undefined, term: number) => '```.term' + term + (flag ? ' interrupt' : '') + '\n' + body + '\n```';
  let out = norm.replace(/```[^\n]*\n((?:(?!```)[\s\S])*?)\n```\{\{exec(\s+interrupt)?\}\}/g, (_m, body: string, flag?: string) => run(body, flag, 1));
  out = out.replace(/```[^\n]*\n((?:(?!```)[\s\S])*?)\n```\{\{copy\}\}/g, (_m, body: string) => '```.copy\n' + body + '\n```');
  // Inline `cmd`{{exec}}: a run block of its own, right where it was.
  out = out.replace(/`([^`\n]+)`\{\{exec(\s+interrupt)?\}\}/g, (_m, cmd: string, flag?: string) => '\n\n' + run(cmd, flag, 1) + '\n\n');
  out = out.replace(/`([^`\n]+)`\{\{copy\}\}/g, (_m, cmd: string) => '\n\n```.copy\n' + cmd + '\n```\n\n');
  // [text](https://{{TRAFFIC_HOST1_8080}}/path) keeps its text and path; a bare one gets a text.
  out = out.replace(/\[([^\]\n]*)\]\((?:https?:\/\/)?\{\{TRAFFIC_HOST(\d+)_(\d+)\}\}([^)\s]*)\)/g, (_m, text: string, host: string, port: string, rest: string) =>
    `[${text || `port ${port}`}](${rest.startsWith('/') ? rest : '/'}){:data-term=".term${host}"}{:data-port="${port}"}`);
  out = out.replace(/(?:https?:\/\/)?\{\{TRAFFIC_HOST(\d+)_(\d+)\}\}(\/[^\s)]*)?/g, (_m, host: string, port: string, rest?: string) =>
    `[port ${port} on node${host}](${rest ?? '/'}){:data-term=".term${host}"}{:data-port="${port}"}`);
  out = out.replace(/<details>\s*(<summary>[\s\S]*?<\/summary>)?/gi, (_m, summary?: string) => '\n\n<details>\n' + (summary ? summary.replace(/\s*\n\s*/g, ' ') + '\n' : '') + '\n');
  out = out.replace(/<\/details>/gi, '\n\n</details>\n\n');
  return out.replace(/\n{3,}/g, '\n\n').trim();
}

/** The highest node the converted text names (a TRAFFIC_HOST2_… link needs two terminals). */
function nodesUsed(text: string): number {
  let max = 1;
  for (const m of text.matchAll(/\.term(\d+)\b/g)) max = Math.max(max, Math.min(6, Number(m[1])));
  return max;
}

/** A step's verify.sh becomes one command check: the script must exit 0. */
function verifyCheck(script: string, stepTitle: string): string {
  const body = script.replace(/\r\n?/g, '\n').replace(/^#!.*\n/, '').trimEnd();
  const indented = body.split('\n').map((l) => '    ' + l).join('\n');
  return ['```check', '- run: |', indented, `  title: ${JSON.stringify(`The check script of "${stepTitle}" passes`)}`, '```'].join('\n');
}

/** Downgrades headings so a step's own "#"/"##" never starts a new step of ours. */
function nestHeadings(md: string): string {
  let inFence = false;
  return md
    .split('\n')
    .map((l) => {
      if (/^\s*(```|~~~)/.test(l)) inFence = !inFence;
      if (inFence) return l;
      const m = /^(#{1,4})\s/.exec(l);
      return m ? '#'.repeat(Math.min(6, m[1]!.length + 2)) + l.slice(m[1]!.length) : l;
    })
    .join('\n');
}

export function killercodaToMarkdown(indexJson: string, readText: (rel: string) => string | undefined): ScenarioConversion {
  const problems: string[] = [];
  let index: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(indexJson);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be an object');
    index = parsed as Record<string, unknown>;
  } catch (e) {
    return { markdown: '', problems: [`index.json is not valid JSON: ${(e as Error).message}`] };
  }
  const details = (index.details ?? {}) as Record<string, unknown>;
  const read = (rel: unknown, what: string): string => {
    if (typeof rel !== 'string' || !rel) return '';
    const text = readText(rel);
    if (text === undefined) problems.push(`${what} refers to "${rel}", which is not in the scenario folder`);
    return text ?? '';
  };

  const title = typeof index.title === 'string' ? index.title : '';
  const description = typeof index.description === 'string' ? index.description : '';
  const parts: string[] = ['---', `title: ${JSON.stringify(title || 'Untitled scenario')}`];
  if (description) parts.push(`description: ${JSON.stringify(description)}`);
  const termsAt = parts.push('terms: 1') - 1;
  parts.push('format: killercoda', '---', '');

  const intro = read((details.intro as ScenarioStep | undefined)?.text, 'details.intro.text');
  if (intro) parts.push(nestHeadings(convertText(intro)), '');

  const steps = Array.isArray(details.steps) ? (details.steps as ScenarioStep[]) : [];
  if (!Array.isArray(details.steps)) problems.push('details.steps is missing or not a list');
  steps.forEach((s, i) => {
    const stepTitle = typeof s.title === 'string' && s.title.trim() ? s.title.trim() : `Step ${i + 1}`;
    parts.push(`## ${stepTitle}`, '');
    const text = read(s.text, `details.steps[${i}].text`);
    if (text) parts.push(nestHeadings(convertText(text)), '');
    const verify = read(s.verify, `details.steps[${i}].verify`);
    if (verify.trim()) parts.push(verifyCheck(verify, stepTitle), '');
  });

  const finish = read((details.finish as ScenarioStep | undefined)?.text, 'details.finish.text');
  if (finish) parts.push('## Finished', '', nestHeadings(convertText(finish)), '');
  parts[termsAt] = `terms: ${nodesUsed(parts.join('\n'))}`;
  return { markdown: parts.join('\n'), problems };
}

/** Killercoda behind the importer interface (katacoda.ts claims index.json folders with Katacoda's own keys first). */
export const killercodaImporter: LabImporter = {
  format: 'killercoda',
  detect: (src) => (src.files.has('index.json') ? 'index.json' : undefined),
  convert(src) {
    const conv = killercodaToMarkdown(src.read('index.json') ?? '', (p) => src.read(p.replace(/^\.\//, '')));
    // Only unreadable JSON refuses the lab; a missing page or step list is an authoring nit.
    const notes = conv.problems.map((message) => ({ file: 'index.json', line: 1, message }));
    const fatal = notes.filter((n) => /not valid JSON/.test(n.message));
    return { markdown: conv.markdown, problems: fatal, warnings: notes.filter((n) => !fatal.includes(n)), workspace: '' };
  },
};
