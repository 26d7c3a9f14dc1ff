// Inline HTML in labs, through sanitize-html with an allow-list. Play-With-Docker posts use a
// little HTML (<a name> anchors, <img>, <iframe>, <span>, <sup>, <strong>); kramdown renders it,
// so we render the safe part of it and drop the rest (scripts, styles, handlers, foreign schemes).
//
// markdown-it gives raw HTML as html_block tokens (whole blocks, sanitized one by one) and as
// html_inline tokens (one tag each). The tags of one inline run are sanitized together, with the
// Markdown rendered around them swapped for placeholders, so "<b>x</b>" stays bold, an unclosed tag
// is closed within its paragraph, and a stray "</div>" can never close markup of ours.
import sanitizeHtml from 'sanitize-html';
import type { IOptions, Tag } from 'sanitize-html';
import type { MarkdownIt, Token } from 'markdown-it';
import { resolveImage } from './assets.ts';
import { labState, lineOfText, type LabRenderState } from './state.ts';

/** Private-use characters that mark placeholders; renderMarkdown removes them from every source. */
export const PLACEHOLDER_CHARS = /[\uE000\uE001]/g;
const SLOT = (i: number) => `\uE000${i}\uE001`;
const SLOT_RE = /\uE000(\d+)\uE001/g;

/** Anchor names and ids from a lab live in their own namespace, so they cannot clobber the page's ids. */
export const ANCHOR_PREFIX = 'anchor-';

const ALLOWED_TAGS = [
  'a', 'img', 'br', 'span', 'sup', 'sub', 'strong', 'em', 'b', 'i', 'code', 'kbd', 'details', 'summary',
  'table', 'thead', 'tbody', 'tr', 'th', 'td', 'p', 'div', 'ul', 'ol', 'li', 'hr', 'pre',
];

/**
 * HTML elements (WHATWG, plus obsolete ones browsers still parse). A "tag" whose name is not here,
 * like the <container-id> of "docker stop <container-id>", is a placeholder the author meant as
 * text: it is shown, not dropped.
 */
const HTML_ELEMENTS = new Set(
  ('a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink blockquote body br button ' +
    'canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl dt em embed fieldset ' +
    'figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe image img input ins ' +
    'isindex kbd keygen label legend li link listing main map mark marquee math menu menuitem meta meter nav nobr noembed ' +
    'noframes noscript object ol optgroup option output p param picture plaintext pre progress q rb rp rt rtc ruby s samp ' +
    'script search section select slot small source spacer span strike strong style sub summary sup svg table tbody td ' +
    'template textarea tfoot th thead time title tr track tt u ul var video wbr xmp').split(' '),
);

/** Dropped content an author should hear about; other unsupported tags just lose their markup. */
const REPORTED_TAGS = new Set(['script', 'style', 'iframe', 'object', 'embed', 'form', 'input', 'button', 'textarea', 'select', 'link', 'meta', 'base', 'svg', 'math', 'frame', 'frameset', 'applet']);

export interface HtmlContext {
  st: LabRenderState;
  /** Line of the HTML in the file, for warnings. */
  line: number;
  /** Finds the line of a snippet more precisely than `line` when it can. */
  lineOf?: (needle: string) => number;
}

/** Safe HTML for a fragment of lab HTML. Pictures follow the Markdown rules (lab-local, missing → alt text). */
export function sanitizeLabHtml(html: string, ctx: HtmlContext): string {
  const { st } = ctx;
  const at = (needle: string) => ctx.lineOf?.(needle) ?? ctx.line;
  const warnOnce = new Set<string>();
  const warn = (line: number, message: string) => {
    if (warnOnce.has(message)) return;
    warnOnce.add(message);
    st.warnings.push({ line, message });
  };
  const options: IOptions = {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['name', 'id', 'href', 'title', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'title'],
      span: ['class'],
      th: ['colspan', 'rowspan'],
      td: ['colspan', 'rowspan'],
    },
    // Only our own marker for a missing picture; an author's classes could dress text up as page controls.
    allowedClasses: { span: ['lab-missing-image'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    transformTags: {
      a: (tagName, attribs) => {
        const out: Record<string, string> = {};
        if (attribs.href !== undefined) out.href = attribs.href.startsWith('#') && attribs.href.length > 1 ? `#${ANCHOR_PREFIX}${attribs.href.slice(1)}` : attribs.href;
        if (attribs.id) out.id = ANCHOR_PREFIX + attribs.id;
        if (attribs.name) out.name = ANCHOR_PREFIX + attribs.name;
        if (attribs.title !== undefined) out.title = attribs.title;
        if (attribs.target !== undefined) Object.assign(out, { target: '_blank', rel: 'noopener noreferrer' });
        return { tagName, attribs: out };
      },
      img: (tagName, attribs): Tag => {
        const src = attribs.src ?? '';
        const r = resolveImage(src, st.assets);
        if (r.kind === 'missing') {
          warn(at(src), missingPicture(r.path));
          return { tagName: 'span', attribs: { class: 'lab-missing-image' }, text: attribs.alt ?? '' };
        }
        // A picture with a scheme we do not serve (data:, file:) shows as text too; onOpenTag told the author.
        if (/^[a-z][a-z0-9+.-]*:/i.test(r.src.trim()) && !/^https?:/i.test(r.src.trim())) return { tagName: 'span', attribs: { class: 'lab-missing-image' }, text: attribs.alt ?? '' };
        return { tagName, attribs: { ...attribs, src: r.src } };
      },
      // No frames in a lab page: an embedded video or page becomes a link to it.
      iframe: (tagName, attribs): Tag => {
        const src = attribs.src ?? '';
        if (!/^https?:\/\//i.test(src)) return { tagName, attribs: {} };
        return { tagName: 'a', attribs: { href: src, target: '_blank', rel: 'noopener noreferrer' }, text: attribs.title?.trim() || src };
      },
    },
    onOpenTag: (name, attribs) => {
      if (REPORTED_TAGS.has(name) && !(name === 'iframe' && /^https?:\/\//i.test(attribs.src ?? ''))) {
        warn(at(`<${name}`), `HTML <${name}> is not allowed in a lab and was removed`);
      }
      for (const [k, v] of Object.entries(attribs)) {
        if (/^on/i.test(k)) warn(at(k), `HTML attribute ${k} is not allowed in a lab and was removed`);
        else if (/^(href|src)$/.test(k)) {
          const scheme = /^(javascript|vbscript|data):/i.exec(v.replace(/[\s\u0000-\u001f]/g, ''))?.[1];
          if (scheme) warn(at(k), `a ${scheme.toLowerCase()}: address is not allowed in a lab and was removed`);
        }
      }
    },
  };
  return sanitizeHtml(escapeUnknownTags(html), options);
}

export function missingPicture(path: string): string {
  return `picture "${path}" is not in the lab folder: its alt text is shown instead`;
}

/** "<container-id>" → "&lt;container-id>": a placeholder in prose, shown as text (see HTML_ELEMENTS). */
function escapeUnknownTags(html: string): string {
  return html.replace(/<(\/?)([A-Za-z][\w:-]*)/g, (m, _slash: string, name: string) => (HTML_ELEMENTS.has(name.toLowerCase()) ? m : `&lt;${m.slice(1)}`));
}

/** Renders html_block and html_inline tokens through the sanitizer. */
export function htmlPlugin(md: MarkdownIt): void {
  // Lines for the tags of inline runs: the renderer only sees children, not the block they came from.
  md.core.ruler.after('inline', 'lab_html_lines', (state) => {
    const st = labState(state.env);
    for (const block of state.tokens) {
      if (block.type !== 'inline' || !block.children) continue;
      const first = (block.map?.[0] ?? 0) + 1;
      for (const k of block.children) if (k.type === 'html_inline') k.meta = { ...(k.meta ?? {}), line: lineOfText(block, st, k.content, first), block };
    }
  });

  md.renderer.rules.html_block = (tokens, idx, _options, env) => {
    const t = tokens[idx]!;
    const st = labState(env);
    const line = (t.map?.[0] ?? 0) + 1;
    return sanitizeLabHtml(t.content, { st, line, lineOf: (needle) => lineOfText(t, st, needle, line) });
  };

  const renderer = md.renderer;
  const plainInline = renderer.renderInline.bind(renderer);
  renderer.renderInline = (tokens: Token[], options, env) => {
    if (!tokens.some((t) => t.type === 'html_inline')) return plainInline(tokens, options, env);
    const st = labState(env);
    // Markdown output is ours and already safe: it waits outside the sanitizer as numbered slots.
    const ours: string[] = [];
    let html = '';
    let first: Token | undefined;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.type === 'html_inline') {
        first ??= t;
        html += t.content;
        continue;
      }
      const rule = renderer.rules[t.type];
      ours.push(rule ? rule(tokens, i, options, env, renderer) : renderer.renderToken(tokens, i, options));
      html += SLOT(ours.length - 1);
    }
    const meta = first!.meta as { line?: number; block?: Token } | null;
    const line = meta?.line ?? 1;
    const block = meta?.block;
    const clean = sanitizeLabHtml(html, { st, line, lineOf: (needle) => (block ? lineOfText(block, st, needle, line) : line) });
    // A slot that ended up inside an attribute was dropped with it; the rest go back in order.
    return clean.replace(SLOT_RE, (_m, n: string) => ours[Number(n)] ?? '');
  };
}
