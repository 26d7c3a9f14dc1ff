// iximiuz Labs content: an index.md whose front matter has kind: (tutorial, challenge…) and tasks:.
// Init tasks prepare the playground (our set-up); the others are checks polled until they exit 0
// (with needs: and env: from the tasks they need); a hintcheck is a live hint. ::simple-task shows
// its task's status where the author put it; shell fences are run blocks.
import YAML from 'yaml';
import { type ImportNote, type ImportResult, type ImportSource, type LabImporter, fence, frontMatter, oneLine, setupBlock, splitPage } from './importer.ts';

const KINDS = new Set(['tutorial', 'challenge', 'course', 'lesson', 'skill-path', 'roadmap', 'training']);
/** Components that only frame Markdown. */
const BOXES = new Set(['remark-box', 'card-box', 'box', 'slide-box', 'tabbed-box', 'details-box']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

/** iximiuz's helper functions that its task scripts call, written for our sandboxes. */
export const TASK_HELPERS = [
  'docker_container_count_total() { docker ps -aq | wc -l; }',
  'docker_container_count_running() { docker ps -q | wc -l; }',
  'docker_container_is_running() { [ "$(docker inspect -f "{{.State.Running}}" "$1" 2>/dev/null)" = true ]; }',
  'docker_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }',
].join('\n');

interface Task {
  name: string;
  init: boolean;
  run: string;
  needs: string[];
  env: string[];
  hintcheck?: string;
  failcheck?: string;
}

export const iximiuzImporter: LabImporter = {
  format: 'iximiuz',
  detect(src) {
    if (!src.files.has('index.md')) return undefined;
    const { data } = splitPage(src.read('index.md') ?? '');
    return typeof data.kind === 'string' && KINDS.has(data.kind) && (data.tasks !== undefined || data.playground !== undefined) ? 'index.md' : undefined;
  },
  convert: iximiuzToMarkdown,
};

function readTasks(raw: unknown, warnings: ImportNote[]): Map<string, Task> {
  const tasks = new Map<string, Task>();
  if (!raw || typeof raw !== 'object') return tasks;
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const t = (v ?? {}) as Record<string, unknown>;
    if (typeof t.run !== 'string') {
      warnings.push({ file: 'index.md', line: 1, message: `task "${name}" has no run: script; it is left out` });
      continue;
    }
    const task: Task = { name, init: t.init === true, run: t.run, needs: Array.isArray(t.needs) ? t.needs.map(String) : [], env: Array.isArray(t.env) ? t.env.map(String) : [] };
    if (typeof t.hintcheck === 'string') task.hintcheck = t.hintcheck;
    if (typeof t.failcheck === 'string') task.failcheck = t.failcheck;
    tasks.set(name, task);
  }
  return tasks;
}

/** Needed tasks first (a task's env may read their output). */
function ordered(tasks: Task[], all: Map<string, Task>): Task[] {
  const out: Task[] = [];
  const seen = new Set<string>();
  const visit = (t: Task) => {
    if (seen.has(t.name)) return;
    seen.add(t.name);
    for (const n of t.needs) if (all.has(n)) visit(all.get(n)!);
    out.push(t);
  };
  tasks.forEach(visit);
  return out.filter((t) => tasks.includes(t));
}

/** A task's script with what it needs: env from needed tasks' output (x(.needs.NAME.stdout)), plain env, the helpers. */
export function taskScript(t: Task, all: Map<string, Task>, script: string, warn: (m: string) => void): string {
  const lines = [TASK_HELPERS];
  for (const e of t.env) {
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(e);
    if (!m) {
      warn(`task "${t.name}": env "${e}" is not NAME=value; left out`);
      continue;
    }
    const need = /^x\(\.needs\.([\w-]+)\.stdout\)$/.exec(m[2]!.trim());
    if (need) {
      const dep = all.get(need[1]!);
      if (!dep) warn(`task "${t.name}" reads the output of "${need[1]}", which is not a task`);
      else lines.push(`${m[1]}="$( (\n${dep.run.trimEnd()}\n) 2>/dev/null )"`, `export ${m[1]}`);
    } else if (/x\(/.test(m[2]!)) warn(`task "${t.name}": env "${e}" uses a template this server does not know; left out`);
    else lines.push(`export ${m[1]}=${JSON.stringify(m[2]!)}`);
  }
  lines.push(script.trimEnd());
  return lines.join('\n');
}

function checkFor(t: Task, all: Map<string, Task>, warn: (m: string) => void, title?: string): string {
  const item: Record<string, unknown> = { run: taskScript(t, all, t.failcheck ? `${t.failcheck.trimEnd()}\n${t.run}` : t.run, warn), title: title ?? `Task ${t.name} is done` };
  if (t.hintcheck) item.hint_run = taskScript(t, all, t.hintcheck, warn);
  return fence('check', YAML.stringify([item], { lineWidth: 0 }).trimEnd());
}

export function iximiuzToMarkdown(src: ImportSource): ImportResult {
  const warnings: ImportNote[] = [];
  const page = splitPage(src.read('index.md') ?? '');
  if (page.error) warnings.push({ file: 'index.md', line: 1, message: `front matter is not valid YAML (${page.error})` });
  const all = readTasks(page.data.tasks, warnings);
  const placed = new Set<string>();
  const warnAt = (line: number) => (message: string) => warnings.push({ file: 'index.md', line: page.bodyLine + line - 1, message });

  const lines = page.body.split('\n');
  const out: string[] = [];
  /** What closes each component opened and not yet closed. */
  const open: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const f = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)(.*)$/.exec(l);
    if (f) {
      const [, indent, ticks, lang] = f;
      const code: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        if (lines[j]!.trim().startsWith(ticks!) && /^\s*[`~]+\s*$/.test(lines[j]!)) break;
        code.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!.trimStart());
      }
      if (j >= lines.length) warnAt(i + 1)(`code block opened here with ${ticks} is never closed; it runs to the end of the page`);
      const info = SHELL.has(lang!.toLowerCase()) ? '.term1' : lang!;
      out.push(...fence(info, code.join('\n')).split('\n').map((x) => indent + x));
      i = j;
      continue;
    }
    // MDC block components: ::name, an optional --- props --- block, #slots, closed by ::
    const comp = /^\s*::([\w-]+)\s*$/.exec(l);
    if (comp) {
      let j = i + 1;
      const props: Record<string, string> = {};
      if (lines[j]?.trim() === '---') {
        for (j++; j < lines.length && lines[j]!.trim() !== '---'; j++) {
          const p = /^\s*:?([\w-]+):\s*(.*)$/.exec(lines[j]!);
          if (p) props[p[1]!] = p[2]!.trim().replace(/^["']|["']$/g, '');
        }
        j++;
      }
      const name = comp[1]!;
      if (name === 'simple-task' || name === 'user-input-task' || name === 'image-box') {
        const inner: string[] = [];
        for (; j < lines.length && !/^\s*::\s*$/.test(lines[j]!); j++) inner.push(lines[j]!);
        out.push(component(name, props, inner, all, placed, warnAt(i + 1)));
        i = j;
        continue;
      }
      // A box around Markdown: its content goes on through this loop (fences in it stay clickable).
      if (name === 'hint-box' || name === 'details-box') {
        out.push('', '<details>', `<summary>${props.summary ?? 'Hint'}</summary>`, '');
        open.push('\n</details>\n');
      } else {
        if (!BOXES.has(name)) warnAt(i + 1)(`::${name} is a component this server does not know; its text is shown as is`);
        open.push('');
      }
      i = j - 1;
      continue;
    }
    if (/^\s*::\s*$/.test(l) && open.length) {
      out.push(open.pop()!);
      continue;
    }
    if (open.length && /^\s*#(active|completed|default)\s*$/.test(l)) continue;
    out.push(l);
  }
  // Tasks the text never shows: their checks go to the last step.
  const rest = ordered([...all.values()].filter((t) => !t.init && !placed.has(t.name)), all);
  if (rest.length) out.push('', ...rest.map((t) => checkFor(t, all, warnAt(1))), '');
  const init = ordered([...all.values()].filter((t) => t.init), all);
  const intro = init.map((t) => setupBlock(taskScript(t, all, t.run, warnAt(1))));
  const body = [...intro, '', ...out].join('\n');
  const fm = frontMatter({
    title: oneLine(page.data.title, 'Untitled'),
    description: typeof page.data.description === 'string' ? page.data.description.trim().split('\n')[0] : undefined,
    difficulty: typeof page.data.difficulty === 'string' ? page.data.difficulty : undefined,
    terms: 1,
    format: 'iximiuz',
  });
  return { markdown: `${fm}\n${body}`, problems: [], warnings, workspace: null };
}

function component(name: string, props: Record<string, string>, inner: string[], all: Map<string, Task>, placed: Set<string>, warn: (m: string) => void): string {
  const slots = (which: string) => {
    const at = inner.findIndex((l) => l.trim() === `#${which}`);
    if (at < 0) return '';
    const end = inner.findIndex((l, k) => k > at && /^\s*#\w+\s*$/.test(l));
    return inner.slice(at + 1, end < 0 ? undefined : end).join(' ').trim();
  };
  if (name === 'simple-task' || name === 'user-input-task') {
    const t = all.get(props.name ?? '');
    if (!t) {
      warn(`::${name} names task "${props.name ?? ''}", which is not in tasks:`);
      return '';
    }
    placed.add(t.name);
    const parts: string[] = [];
    if (name === 'user-input-task' && props.destination) parts.push('Write your answer where the check reads it:', '', fence('.copy', `echo 'YOUR ANSWER' > ${props.destination}`), '');
    parts.push(checkFor(t, all, warn, slots('completed') || slots('active') || undefined));
    return '\n' + parts.join('\n') + '\n';
  }
  if (name === 'hint-box' || name === 'details-box') {
    return `\n<details>\n<summary>${props.summary ?? 'Hint'}</summary>\n\n${inner.join('\n').trim()}\n\n</details>\n`;
  }
  if (name === 'image-box') return props.src ? `\n![${props.alt ?? ''}](${props.src})\n` : '';
  if (name === 'card-box' || name === 'box') return inner.join('\n');
  warn(`::${name} is a component this server does not know; its text is shown as is`);
  return inner.filter((l) => !/^\s*#\w+\s*$/.test(l)).join('\n');
}
