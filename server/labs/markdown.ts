// markdown-it plugin for labs: steps from sections, clickable ```.termN blocks, ```check
// blocks, kramdown attribute lists ({:...}) on links and paragraphs, {:.quiz} questions, and
// pictures from the lab's own folder. Raw HTML goes through html.ts.
// Every renderer rule keeps the previous rule and hands it the tokens it does not own.
// Per-render data (problems, warnings, steps, counters) lives in env.lab; the md instance is stateless.
import markdownIt from 'markdown-it';
import type { MarkdownIt, StateCore, Token } from 'markdown-it';
import type { LabStep, RunBlock } from './types.ts';
import type { CheckSpec } from '../checks/types.ts';
import { parseChecks } from './checks.ts';
import { MAX_TERMS } from './frontmatter.ts';
import { resolveImage } from './assets.ts';
import { ANCHOR_PREFIX, htmlPlugin, missingPicture } from './html.ts';
import { labState as lab, lineOfText, type LabRenderState } from './state.ts';
import { detailsPlugin } from './details.ts';
import { conditionHolds, parseAssignments, valueProblem, type VariableCondition } from '../protocol/variables.ts';

export { newRenderState, type LabRenderState } from './state.ts';

const CHECK_INFO = /^(?:checks?|\{\s*\.?checks?\s*\})$/;
/** ```.term1, ``` .term1, ```{.term1}, ```{: .term1 }, ```.term1 bash */
const TERM_INFO = /^\{?:?\s*\.\s?term(\d+)\s*\}?(?:\s|$)/;
const INTERRUPT_INFO = /\sinterrupt\b/;
const NO_NEWLINE_INFO = /\sno-newline\b/;
/** ```.save path/to/file: a "Save file" action that writes the block into the working directory. */
const SAVE_INFO = /^\{?:?\s*\.save\s*\}?\s+(?:path=)?("[^"]+"|\S+)\s*$/;
/** ```setup (node 1), ```setup node2: a script that prepares that node's sandbox for its step (imported labs' set-up scripts). */
const SETUP_INFO = /^setup(?:\s+(?:node|\.?term)(\d+))?$/;
/** ```variable name: an input for the learner's value of a variable; the body is its prompt. */
const VARIABLE_INFO = /^variable\s+(\S+)\s*$/;
/** ```when name=value, ```when name (has a value), ```when !name (has none) … ```end-when: shown only then. */
const WHEN_INFO = /^when\s+(!?)([A-Za-z_][\w-]*)\s*(?:=(.*))?$/;
const END_WHEN_INFO = /^end-when$/;
const COPY_INFO = /^\{?:?\s*\.copy\s*\}?(?:\s|$)/;
/** A file a lab may ask the editor to open: relative to /root, no "..", nothing odd. */
const OPEN_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[\w@%+=:,./ -]{1,255}$/;

/** Classes a lab may put on paragraphs and images; anything else is dropped. */
const SAFE_CLASSES = new Set(['text-center', 'text-left', 'text-right', 'small', 'note', 'warning']);

interface Ial {
  classes: string[];
  id?: string;
  attrs: Array<[string, string]>;
}

const IAL_GROUP = /^\{:\s*((?:[^}"']|"[^"]*"|'[^']*')*)\}/;

/** Parses consecutive "{:...}" groups at the start of `text`. */
export function parseIal(text: string): { ial: Ial; length: number } | null {
  let pos = 0;
  const ial: Ial = { classes: [], attrs: [] };
  let found = false;
  for (;;) {
    const m = IAL_GROUP.exec(text.slice(pos));
    if (!m) break;
    found = true;
    pos += m[0].length;
    const body = m[1]!;
    const re = /\s*(?:\.([\w-]+)|#([\w-]+)|([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))/gy;
    let t: RegExpExecArray | null;
    while ((t = re.exec(body))) {
      if (t[1]) ial.classes.push(t[1]);
      else if (t[2]) ial.id = t[2];
      else if (t[3]) ial.attrs.push([t[3].toLowerCase(), t[4] ?? t[5] ?? t[6] ?? '']);
    }
  }
  return found ? { ial, length: pos } : null;
}

/** An attribute an author clearly meant as behaviour: reported, never rendered. */
function dangerous(name: string, value: string): boolean {
  return /^on/i.test(name) || (/^(href|src|srcdoc|formaction|action|style)$/.test(name) && /(javascript|vbscript|data):/i.test(value.replace(/\s/g, '')));
}

export function labPlugin(md: MarkdownIt): void {
  const defaultValidate = md.validateLink.bind(md);
  // markdown-it already refuses javascript:, vbscript: and file:; it lets data:image through. Labs get none.
  md.validateLink = (url: string) => defaultValidate(url) && !/^\s*data:/i.test(url);

  md.use(detailsPlugin);
  md.core.ruler.after('block', 'lab_block_ial', blockIal);
  md.core.ruler.after('inline', 'lab_inline_ial', inlineIal);
  md.core.ruler.push('lab_quiz', quizzes);
  md.core.ruler.push('lab_fences', fences);
  md.core.ruler.push('lab_when', whenBlocks);
  md.core.ruler.push('lab_steps', steps);

  const esc = md.utils.escapeHtml;

  // A picture missing from the lab folder reads as its alt text, as a browser shows a broken image.
  const prevImage = md.renderer.rules.image!;
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const t = tokens[idx]!;
    if (!(t.meta as { missing?: boolean } | null)?.missing) return prevImage(tokens, idx, options, env, self);
    const alt = self.renderInlineAsText(t.children ?? [], options, env);
    return alt ? `<span class="lab-missing-image">${esc(alt)}</span>` : '';
  };

  // "#name" links point at a lab's <a name> anchors, which live under ANCHOR_PREFIX (see html.ts).
  const prevLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const t = tokens[idx]!;
    const href = String(t.attrGet('href') ?? '');
    if (href.length > 1 && href.startsWith('#') && t.attrGet('class') !== 'port-link') t.attrSet('href', `#${ANCHOR_PREFIX}${href.slice(1)}`);
    return prevLinkOpen(tokens, idx, options, env, self);
  };

  const prevFence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const t = tokens[idx]!;
    const meta = t.meta as FenceMeta | null;
    if (!meta) {
      // ```.copy (Killercoda's {{copy}}): shown with a Copy button, never run.
      if (COPY_INFO.test(t.info.trim())) return `<div class="run-block-wrap copy-only"><pre class="copy-block"><code>${esc(t.content.replace(/\n+$/, ''))}</code></pre><button type="button" class="copy-button" data-copy-block="copy">Copy</button></div>\n`;
      return prevFence(tokens, idx, options, env, self);
    }
    if (meta.kind === 'variable') {
      const name = esc(meta.variable!);
      const prompt = t.content.trim().replace(/\s*\n\s*/g, ' ') || `Value of ${meta.variable}`;
      const value = lab(env).variables?.[meta.variable!] ?? '';
      return (
        `<form class="lab-var-form" data-lab-var-form="${name}"><label><span class="lab-var-prompt">${esc(prompt)}</span> ` +
        `<input type="text" class="lab-var-input" data-lab-var-input="${name}" value="${esc(value)}" autocomplete="off" spellcheck="false"></label> ` +
        `<button type="submit" class="btn lab-var-save">Set</button><span class="lab-var-error" role="alert"></span></form>\n`
      );
    }
    if (meta.kind === 'setup') return meta.stepId ? `<div class="step-setup" data-setup-step="${meta.stepId}" hidden></div>\n` : '';
    if (meta.kind === 'run' && meta.block?.save !== undefined) {
      const b = meta.block;
      return (
        `<div class="run-block-wrap save-wrap"><div class="save-path">${esc(b.save!)}</div><pre class="save-block" data-save-path="${esc(b.save!)}" data-block-id="${b.id}" data-step-id="${meta.stepId}" data-save-term="${b.term}">` +
        `<code>${esc(b.code)}</code></pre><button type="button" class="save-button" data-save-block="${b.id}">Save file</button><button type="button" class="copy-button" data-copy-block="${b.id}">Copy</button></div>\n`
      );
    }
    if (meta.kind === 'run') {
      const b = meta.block!;
      return (
        // "interrupt" (Killercoda's {{exec interrupt}}): Ctrl-C goes first, to stop what is running.
        `<div class="run-block-wrap"><pre class="run-block" data-term="${b.term}" data-block-id="${b.id}" data-step-id="${meta.stepId}"${b.interrupt ? ' data-interrupt="1"' : ''}${b.noNewline ? ' data-no-newline="1"' : ''} title="Click to run in terminal ${b.term}">` +
        `<code>${esc(b.code)}</code></pre><button type="button" class="copy-button" data-copy-block="${b.id}">Copy</button></div>\n`
      );
    }
    if (meta.kind === 'check') {
      if (!meta.checks || meta.checks.length === 0) return '';
      const items = meta.checks
        .map(
          (c) =>
            `<li class="check" data-check-id="${esc(c.id)}"><span class="check-status" data-check-status="pending" aria-label="pending"></span>` +
            `<span class="check-title">${esc(c.title ?? '')}</span><span class="check-message"></span></li>`,
        )
        .join('');
      return `<div class="checks" data-step-id="${meta.stepId}"><ul>${items}</ul><button type="button" class="check-button" data-check-step="${meta.stepId}">Check</button></div>\n`;
    }
    // An author error (a terminal the lab does not have): plain code, never clickable.
    return `<pre><code>${esc(t.content)}</code></pre>\n`;
  };

  md.renderer.rules.lab_step_open = (tokens, idx) => {
    const id = (tokens[idx]!.meta as { stepId: string }).stepId;
    return `<section class="lab-step" data-step-id="${id}" id="step-${id}">\n`;
  };
  md.renderer.rules.lab_step_close = () => '</section>\n';

  // Shown or hidden by the page as the learner's values change; the defaults decide the first paint.
  md.renderer.rules.lab_when_open = (tokens, idx, _options, env) => {
    const c = tokens[idx]!.meta as VariableCondition;
    const shown = conditionHolds(c, lab(env).variables ?? {});
    return `<div class="lab-when" data-when-var="${esc(c.variable)}" data-when-test="${c.test}"${c.test === 'equals' ? ` data-when-value="${esc(c.value)}"` : ''}${shown ? '' : ' hidden'}>\n`;
  };
  md.renderer.rules.lab_when_close = () => '</div>\n';

  md.renderer.rules.lab_quiz = (tokens, idx, options, env) => {
    const q = tokens[idx]!.meta as unknown as QuizMeta;
    const question = md.renderer.renderInline(q.question, options, env);
    let body: string;
    if (q.type === 'text') {
      body = `<p class="quiz-options"><input type="text" class="quiz-answer" name="${q.id}" autocomplete="off" data-answer="${esc(q.answer ?? '')}" aria-label="Answer"></p>`;
    } else {
      const opts = q.options
        .map((o, i) => {
          const correct = o.correct ? ' data-correct="true"' : '';
          return `<li><label><input type="${q.type}" name="${q.id}" value="${i}"${correct}> ${md.renderer.renderInline(o.children, options, env)}</label></li>`;
        })
        .join('');
      body = `<ul class="quiz-options">${opts}</ul>`;
    }
    return (
      `<form class="quiz" data-quiz-id="${q.id}" data-quiz-type="${q.type === 'checkbox' ? 'multiple' : q.type === 'radio' ? 'single' : 'text'}">` +
      `<p class="quiz-question">${question}</p>${body}` +
      // A submit button: the page checks answers on the form's submit event (Enter works too).
      `<button type="submit" class="quiz-button">Check answer</button></form>\n`
    );
  };
}

// ---- block attribute lists ({:.quiz}, {: .text-center}) -----------------------------------

const IAL_LINE = /^\{:(?:[^}"']|"[^"]*"|'[^']*')*\}(?:\{:(?:[^}"']|"[^"]*"|'[^']*')*\})*\s*$/;

function blockIal(state: StateCore): void {
  const tokens = state.tokens;
  const st = lab(state.env);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'heading_open') {
      // "## Title {#custom-id}": kramdown header ids. Ours are derived from steps, so drop it.
      const inline = tokens[i + 1]!;
      inline.content = inline.content.replace(/\s*\{:?\s*#[\w-]+\s*\}\s*$/, '');
      continue;
    }
    if (t.type !== 'paragraph_open') continue;
    const inline = tokens[i + 1]!;
    const lines = inline.content.split('\n');
    const collected: Ial[] = [];
    while (lines.length > 0 && IAL_LINE.test(lines[0]!.trim())) collected.push(parseIal(lines.shift()!.trim())!.ial);
    while (lines.length > 0 && IAL_LINE.test(lines[lines.length - 1]!.trim())) collected.push(parseIal(lines.pop()!.trim())!.ial);
    if (collected.length === 0) continue;
    const line = (t.map?.[0] ?? 0) + 1;
    if (lines.length > 0) {
      inline.content = lines.join('\n');
      for (const ial of collected) applyBlockIal(t, ial, line, st);
      continue;
    }
    // A paragraph that is only "{:...}": it belongs to the block right before it (no blank line
    // between) or else to the next one. Either way the syntax itself must not show.
    tokens.splice(i, 3);
    const prevClose = tokens[i - 1];
    let owner: Token | undefined;
    if (prevClose && prevClose.nesting === -1 && prevClose.block) {
      let depth = 0;
      for (let j = i - 1; j >= 0; j--) {
        depth += tokens[j]!.nesting;
        if (depth === 0) {
          if (tokens[j]!.map && tokens[j]!.map![1] === t.map?.[0]) owner = tokens[j];
          break;
        }
      }
    }
    owner ??= tokens[i] && tokens[i]!.nesting === 1 ? tokens[i] : undefined;
    if (owner) for (const ial of collected) applyBlockIal(owner, ial, line, st);
    i--;
  }
}

function applyBlockIal(t: Token, ial: Ial, line: number, st: LabRenderState): void {
  for (const c of ial.classes) {
    if (c === 'quiz' && t.type === 'paragraph_open') t.meta = { ...(t.meta ?? {}), quiz: true };
    else if (SAFE_CLASSES.has(c)) t.attrJoin('class', `lab-${c}`);
  }
  for (const [name, value] of ial.attrs) {
    if (dangerous(name, value)) st.problems.push({ line, message: `attribute "${name}" is not allowed in a lab and was removed` });
  }
}

// ---- inline attribute lists: links to a terminal's port ---------------------------------

function inlineIal(state: StateCore): void {
  const st = lab(state.env);
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const line = (block.map?.[0] ?? 0) + 1;
    const kids = block.children;
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i]!;
      if (k.type === 'image') resolvePicture(k, block, st, line);
      if (k.type !== 'link_close' && k.type !== 'image') continue;
      const next = kids[i + 1];
      if (!next || next.type !== 'text') continue;
      const parsed = parseIal(next.content);
      if (!parsed) continue;
      next.content = next.content.slice(parsed.length);
      let open: Token | undefined = k;
      if (k.type === 'link_close') {
        for (let j = i - 1; j >= 0; j--) {
          if (kids[j]!.type === 'link_open' && kids[j]!.level === k.level) {
            open = kids[j];
            break;
          }
        }
      }
      if (open) applyInlineIal(open, parsed.ial, line, st);
    }
  }
}

/** A picture of the lab folder is served from it; one that is not there becomes its alt text. */
function resolvePicture(k: Token, block: Token, st: LabRenderState, line: number): void {
  const src = k.attrGet('src');
  if (typeof src !== 'string') return;
  const r = resolveImage(src, st.assets);
  if (r.kind === 'src') k.attrSet('src', r.src);
  else {
    k.meta = { ...(k.meta ?? {}), missing: true };
    st.warnings.push({ line: lineOfText(block, st, src, line), message: missingPicture(r.path) });
  }
}

function applyInlineIal(t: Token, ial: Ial, line: number, st: LabRenderState): void {
  let term: string | undefined;
  let port: string | undefined;
  for (const [name, value] of ial.attrs) {
    if (name === 'data-term') term = value;
    else if (name === 'data-port') port = value;
    else if (name === 'data-open' && t.type === 'link_open') {
      if (!OPEN_PATH.test(value)) st.problems.push({ line, message: `data-open="${value}" must be a path under /root without ".." (e.g. data-open="Dockerfile")` });
      else {
        t.attrs = [['class', 'open-file'], ['data-open', value], ['href', '#']];
        return;
      }
    }
    else if (name === 'data-set-variables' && t.type === 'link_open') {
      // A button that sets variables (a Labspace ::variableSetButton): "a=1,b=2".
      const pairs = parseAssignments(value);
      const bad = pairs.length === 0 ? `data-set-variables="${value}" sets nothing: write name=value, separated by commas` : pairs.map(([n, v]) => (st.variables && Object.hasOwn(st.variables, n) ? valueProblem(n, v) : `data-set-variables names "${n}", which is not under variables: in the front matter`)).find(Boolean);
      if (bad) st.problems.push({ line, message: bad });
      else {
        t.attrs = [['class', 'lab-var-set'], ['href', '#'], ['role', 'button'], ['data-set-variables', value]];
        return;
      }
    }
    else if (name === 'target' && t.type === 'link_open' && value === '_blank') {
      t.attrSet('target', '_blank');
      t.attrSet('rel', 'noopener noreferrer');
    } else if (name === 'title') t.attrSet('title', value);
    else if (dangerous(name, value)) st.problems.push({ line, message: `attribute "${name}" is not allowed in a lab and was removed` });
    // Anything else (style, width, ...) is dropped silently: harmless, and common in imported labs.
  }
  for (const c of ial.classes) if (SAFE_CLASSES.has(c)) t.attrJoin('class', `lab-${c}`);
  if (t.type !== 'link_open' || (term === undefined && port === undefined)) return;
  if (port === undefined) {
    st.problems.push({ line, message: `a link with data-term="${term}" also needs data-port="…" (the port to open)` });
    return;
  }
  const n = term === undefined ? 1 : termNumber(term);
  const p = Number(port);
  if (n === null || n < 1 || n > MAX_TERMS) {
    st.problems.push({ line, message: `data-term="${term}" is not a terminal: use .term1 to .term${MAX_TERMS}` });
    return;
  }
  if (!/^\d+$/.test(port) || p < 1 || p > 65535) {
    st.problems.push({ line, message: `data-port="${port}" is not a port number (1-65535)` });
    return;
  }
  if (n > st.terms) st.problems.push({ line, message: `the link opens a port of terminal ${n}, but the lab has terms: ${st.terms}` });
  const title = t.attrGet('title');
  // Not data-term: that attribute means "clickable run block" to the web app.
  const href = String(t.attrGet('href') ?? '');
  t.attrs = [['class', 'port-link'], ['data-port-term', String(n)], ['data-port', String(p)], ['href', '#']];
  // A path on the app ("/api/status"), kept so the link opens that page of it.
  if (/^\/[^/\\]/.test(href)) t.attrs.push(['data-port-path', href]);
  if (title !== null) t.attrs.push(['title', String(title)]);
}

function termNumber(v: string): number | null {
  const m = /^\.?term(\d+)$/.exec(v.trim()) ?? /^(\d+)$/.exec(v.trim());
  return m ? Number(m[1]) : null;
}

// ---- quizzes ------------------------------------------------------------------------------

interface QuizMeta {
  id: string;
  type: 'radio' | 'checkbox' | 'text';
  question: Token[];
  options: Array<{ children: Token[]; correct: boolean }>;
  answer?: string;
}

const OPTION = /^\s*(\(\s*\)|\(\s*[xX]\s*\)|\[\s*\]|\[\s*[xX]\s*\])\s*/;

function quizzes(state: StateCore): void {
  const tokens = state.tokens;
  const st = lab(state.env);
  let count = 0;
  for (let i = 0; i < tokens.length; i++) {
    const p = tokens[i]!;
    if (p.type !== 'paragraph_open' || !(p.meta as { quiz?: boolean } | null)?.quiz) continue;
    const line = (p.map?.[0] ?? 0) + 1;
    const question = tokens[i + 1]!.children ?? [];
    const next = tokens[i + 3];
    const end = next ? closingIndex(tokens, i + 3) : -1;
    if (!next || end < 0 || !['bullet_list_open', 'ordered_list_open', 'blockquote_open'].includes(next.type)) {
      st.problems.push({ line, message: 'a {:.quiz} question must be followed by a list of options ("- ( ) wrong", "- (x) right") or a "> answer" quote' });
      continue;
    }
    const meta: QuizMeta = { id: `q${++count}`, type: 'radio', question, options: [] };
    if (next.type === 'blockquote_open') {
      meta.type = 'text';
      meta.answer = tokens.slice(i + 4, end).filter((t) => t.type === 'inline').map((t) => t.content).join(' ').trim();
    } else {
      const kinds = new Set<string>();
      let bad = false;
      for (let j = i + 4; j < end; j++) {
        const t = tokens[j]!;
        if (t.type !== 'list_item_open' || t.level !== next.level + 1) continue;
        const inline = tokens.slice(j, closingIndex(tokens, j)).find((x) => x.type === 'inline');
        const first = inline?.children?.[0];
        const m = first && first.type === 'text' ? OPTION.exec(first.content) : null;
        if (!inline || !first || !m) {
          st.problems.push({ line: (t.map?.[0] ?? 0) + 1, message: 'a quiz option starts with ( ), (x), [ ] or [x]' });
          bad = true;
          continue;
        }
        first.content = first.content.slice(m[0].length);
        kinds.add(m[1]!.startsWith('(') ? 'radio' : 'checkbox');
        meta.options.push({ children: inline.children!, correct: /x/i.test(m[1]!) });
      }
      if (kinds.size > 1) {
        st.problems.push({ line, message: 'a quiz mixes ( ) and [ ] options: use ( ) for one answer, [ ] for several' });
        bad = true;
      }
      meta.type = kinds.has('checkbox') ? 'checkbox' : 'radio';
      const correct = meta.options.filter((o) => o.correct).length;
      if (!bad && correct === 0) {
        st.problems.push({ line, message: 'the quiz has no correct option: mark it (x) or [x]' });
        bad = true;
      }
      if (!bad && meta.type === 'radio' && correct > 1) {
        // kramdown renders it; the page accepts any of the marked answers.
        st.warnings.push({ line, message: `a ( ) quiz has one right answer, but ${correct} are marked (x): any of them is accepted; use [ ] and [x] if all must be picked` });
      }
    }
    const q = new state.Token('lab_quiz', 'form', 0);
    q.block = true;
    q.level = p.level;
    q.map = [p.map?.[0] ?? 0, tokens[end]!.map?.[1] ?? next.map?.[1] ?? 0];
    q.meta = meta as unknown as Record<string, unknown>;
    tokens.splice(i, end - i + 1, q);
  }
}

/** Index of the token closing the one opened at `start`. */
function closingIndex(tokens: Token[], start: number): number {
  let depth = 0;
  for (let j = start; j < tokens.length; j++) {
    depth += tokens[j]!.nesting;
    if (depth === 0) return j;
  }
  return -1;
}

// ---- fences: run blocks and checks ----------------------------------------------------------

interface FenceMeta {
  kind: 'run' | 'check' | 'plain' | 'setup' | 'variable' | 'when' | 'end-when';
  variable?: string;
  when?: VariableCondition;
  term?: number;
  interrupt?: boolean;
  noNewline?: boolean;
  save?: string;
  block?: RunBlock;
  checks?: CheckSpec[];
  stepId?: string;
}

function fenceClosed(t: Token, st: LabRenderState): boolean {
  if (!t.map) return true;
  const [start, end] = t.map;
  if (end - 1 <= start) return false;
  // Fences inside quotes or lists carry their container's prefix.
  const last = (st.lines[end - 1] ?? '').replace(/^[\s>]*(?:(?:[-*+]|\d+[.)])\s+)?/, '').trimEnd();
  const ch = t.markup[0]!;
  return last.length >= t.markup.length && [...last].every((c) => c === ch);
}

function fences(state: StateCore): void {
  const st = lab(state.env);
  for (const t of state.tokens) {
    if (t.type !== 'fence') continue;
    const line = (t.map?.[0] ?? 0) + 1;
    const info = t.info.trim();
    // CommonMark closes such a fence where its container ends (usually the end of the file).
    const closed = fenceClosed(t, st);
    if (!closed) st.warnings.push({ line, message: `code block opened here with ${t.markup} is never closed, so it runs to the end of ${t.level > 0 ? 'its list or quote' : 'the file'}: add a closing ${t.markup}` });
    const term = TERM_INFO.exec(info);
    if (term) {
      const n = Number(term[1]);
      t.meta = { kind: 'plain' } satisfies FenceMeta;
      if (n < 1 || n > MAX_TERMS) st.problems.push({ line, message: `.term${n} is not a terminal: use .term1 to .term${MAX_TERMS}` });
      else if (n > st.terms) st.problems.push({ line, message: `this block runs in terminal ${n}, but the lab has terms: ${st.terms}` });
      else {
        const m = { kind: 'run', term: n } as FenceMeta & Record<string, unknown>;
        if (INTERRUPT_INFO.test(info)) m.interrupt = true;
        if (NO_NEWLINE_INFO.test(info)) m.noNewline = true;
        t.meta = m;
      }
      continue;
    }
    const save = SAVE_INFO.exec(info);
    if (save) {
      const p = save[1]!.replace(/^"|"$/g, '');
      if (!OPEN_PATH.test(p)) st.problems.push({ line, message: `.save ${p}: the file must be a path under the working directory without ".." (e.g. .save app/Dockerfile)` });
      else t.meta = { kind: 'run', term: 1, save: p } satisfies FenceMeta;
      continue;
    }
    const variable = VARIABLE_INFO.exec(info);
    if (variable) {
      const name = variable[1]!;
      if (!st.variables || !Object.hasOwn(st.variables, name)) st.problems.push({ line, message: `\`\`\`variable ${name}: there is no variable "${name}"; declare it under variables: in the front matter` });
      else t.meta = { kind: 'variable', variable: name } satisfies FenceMeta;
      continue;
    }
    const when = WHEN_INFO.exec(info);
    if (when) {
      const [, not, name, value] = when;
      if (!st.variables || !Object.hasOwn(st.variables, name!)) st.problems.push({ line, message: `\`\`\`when ${name}: there is no variable "${name}"; declare it under variables: in the front matter` });
      else if (not && value !== undefined) st.problems.push({ line, message: '```when !name takes no value: it means "name has no value"' });
      t.meta = { kind: 'when', when: value !== undefined ? { variable: name!, test: 'equals', value: value.trim() } : { variable: name!, test: not ? 'unset' : 'set' } } satisfies FenceMeta;
      continue;
    }
    if (END_WHEN_INFO.test(info)) {
      t.meta = { kind: 'end-when' } satisfies FenceMeta;
      continue;
    }
    const setup = SETUP_INFO.exec(info);
    if (setup) {
      const n = Number(setup[1] ?? 1);
      if (n < 1 || n > MAX_TERMS) st.problems.push({ line, message: `setup node${n}: there is no such node; use node1 to node${MAX_TERMS}` });
      else if (n > st.terms) st.problems.push({ line, message: `this set-up runs on node${n}, but the lab has terms: ${st.terms}` });
      else t.meta = { kind: 'setup', term: n } satisfies FenceMeta;
      continue;
    }
    if (CHECK_INFO.test(info)) {
      const parsed = parseChecks(t.content, line + 1);
      st.problems.push(...parsed.problems);
      // A command check on a node the lab does not have is an authoring problem, like such a set-up.
      const checks = parsed.checks.filter((c) => {
        if (c.kind !== 'command' || c.node === undefined || c.node <= st.terms) return true;
        st.problems.push({ line: c.line, message: `this check runs on node${c.node}, but the lab has terms: ${st.terms}` });
        return false;
      });
      t.meta = { kind: 'check', checks } satisfies FenceMeta;
      continue;
    }
  }
}

// ---- ```when … ```end-when: a part shown only while a variable has a value --------------------

/**
 * Pairs each ```when with its ```end-when and turns them into a container around what lies
 * between. They must be siblings (same list item or quote) in one step; a marker that has no
 * partner there is dropped with a warning, and its text shows always.
 */
function whenBlocks(state: StateCore): void {
  const st = lab(state.env);
  const tokens = state.tokens;
  const kind = (t: Token) => (t.type === 'fence' ? (t.meta as FenceMeta | null)?.kind : undefined);
  const drop = new Set<number>();
  const open: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const k = kind(tokens[i]!);
    if (k === 'when') open.push(i);
    else if (k === 'end-when') {
      const from = open.pop();
      if (from === undefined || !siblings(tokens, from, i)) {
        st.warnings.push({ line: (tokens[i]!.map?.[0] ?? 0) + 1, message: '```end-when has no ```when before it in the same step, list item or quote; it is ignored' });
        drop.add(i);
        if (from !== undefined) open.push(from);
        continue;
      }
      const o = tokens[from]!;
      const c = tokens[i]!;
      const cond = (o.meta as unknown as FenceMeta).when!;
      o.type = 'lab_when_open';
      o.tag = 'div';
      o.nesting = 1;
      o.meta = cond as unknown as Record<string, unknown>;
      c.type = 'lab_when_close';
      c.tag = 'div';
      c.nesting = -1;
      c.meta = null;
    }
  }
  for (const i of open) {
    st.warnings.push({ line: (tokens[i]!.map?.[0] ?? 0) + 1, message: '```when has no ```end-when after it in the same step, list item or quote; its text is always shown' });
    drop.add(i);
  }
  if (drop.size) state.tokens = tokens.filter((_, i) => !drop.has(i));
}

/** Whether tokens[a] and tokens[b] sit in the same container with no step heading between them. */
function siblings(tokens: Token[], a: number, b: number): boolean {
  let depth = 0;
  for (let i = a + 1; i < b; i++) {
    const t = tokens[i]!;
    depth += t.nesting;
    if (depth < 0) return false;
    if (t.type === 'heading_open' && t.level === 0 && (t.tag === 'h1' || t.tag === 'h2')) return false;
  }
  return depth === 0 && tokens[a]!.level === tokens[b]!.level;
}

// ---- steps ----------------------------------------------------------------------------------

function plainText(inline: Token | undefined): string {
  return (inline?.children ?? [])
    .map((c) => (c.type === 'text' || c.type === 'code_inline' ? c.content : c.type === 'softbreak' || c.type === 'hardbreak' ? ' ' : ''))
    .join('')
    .trim();
}

function steps(state: StateCore): void {
  const st = lab(state.env);
  const tokens = state.tokens;
  const top = tokens.filter((t) => t.type === 'heading_open' && t.level === 0);
  const firstHeading = tokens.findIndex((t) => t.type === 'heading_open');
  if (firstHeading >= 0) st.firstHeading = plainText(tokens[firstHeading + 1]);
  const level = top.some((t) => t.tag === 'h2') ? 'h2' : top.some((t) => t.tag === 'h1') ? 'h1' : null;

  // Section boundaries: indexes of top-level headings of the step level.
  const starts: number[] = [];
  if (level) tokens.forEach((t, i) => t.type === 'heading_open' && t.level === 0 && t.tag === level && starts.push(i));
  const owns = (from: number, to: number) =>
    tokens.slice(from, to).some((t) => ['run', 'check', 'setup'].includes((t.meta as FenceMeta | null)?.kind ?? ''));
  // With "#" steps, the first "#" is usually the lab's title: part of the intro unless it holds work.
  if (level === 'h1' && starts.length > 1 && !owns(starts[0]!, starts[1]!)) starts.shift();
  const introEnd = starts[0] ?? tokens.length;
  const sections: Array<{ from: number; to: number; title: string; line: number }> = [];
  if (introEnd > 0 && owns(0, introEnd)) sections.push({ from: 0, to: introEnd, title: 'Introduction', line: (tokens[0]?.map?.[0] ?? 0) + 1 });
  starts.forEach((s, k) => sections.push({ from: s, to: starts[k + 1] ?? tokens.length, title: plainText(tokens[s + 1]), line: (tokens[s]!.map?.[0] ?? 0) + 1 }));

  let blockCount = 0;
  const out: Token[] = [];
  let cursor = 0;
  sections.forEach((sec, k) => {
    const id = `s${k + 1}`;
    const step: LabStep = { id, index: k, title: sec.title, line: sec.line, blocks: [], checks: [] };
    out.push(...tokens.slice(cursor, sec.from));
    const open = new state.Token('lab_step_open', 'section', 1);
    open.block = true;
    open.meta = { stepId: id };
    out.push(open);
    const conditions: VariableCondition[] = [];
    for (let i = sec.from; i < sec.to; i++) {
      const t = tokens[i]!;
      const meta = t.meta as FenceMeta | null;
      if (t.type === 'lab_when_open') conditions.push(t.meta as VariableCondition);
      if (t.type === 'lab_when_close') conditions.pop();
      if (t.type === 'fence' && meta?.kind === 'run') {
        const block: RunBlock = { id: `b${++blockCount}`, term: meta.term!, code: runCode(t.content), line: (t.map?.[0] ?? 0) + 1 };
        if (conditions.length) block.when = [...conditions];
        if (meta.interrupt) block.interrupt = true;
        if (meta.noNewline) block.noNewline = true;
        // A file keeps its last newline: it is written, not typed.
        if (meta.save !== undefined) {
          block.save = meta.save;
          block.code = t.content.replace(/\r\n?/g, '\n');
        }
        meta.block = block;
        meta.stepId = id;
        step.blocks.push(block);
      } else if (t.type === 'fence' && meta?.kind === 'setup') {
        meta.stepId = id;
        (step.setup ??= []).push({ node: meta.term ?? 1, script: t.content.replace(/\r\n?/g, '\n') });
      } else if (t.type === 'fence' && meta?.kind === 'check') {
        meta.stepId = id;
        for (const c of meta.checks ?? []) {
          c.id = `${id}.c${step.checks.length + 1}`;
          step.checks.push(c);
        }
      }
      out.push(t);
    }
    const close = new state.Token('lab_step_close', 'section', -1);
    close.block = true;
    out.push(close);
    cursor = sec.to;
    st.steps.push(step);
  });
  out.push(...tokens.slice(cursor));
  state.tokens = out;
}

/** Exactly what is typed into the shell: LF endings, trailing newlines trimmed, nothing else touched. */
export function runCode(content: string): string {
  return content.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
}

export function createLabMarkdown(): MarkdownIt {
  // Raw HTML is on only because html.ts owns both of its renderer rules: nothing reaches the page unsanitized.
  const md = markdownIt({ html: true, linkify: false, typographer: false });
  md.use(labPlugin);
  md.use(htmlPlugin);
  return md;
}
