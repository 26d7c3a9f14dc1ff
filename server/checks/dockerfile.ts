// Just enough of the Dockerfile language to tell which stage an image came from: stages, their bases,
// and the instructions that leave a trace in the image's history. Pure; no Docker needed.

export interface Instruction {
  /** Upper-case keyword: RUN, COPY, ADD, WORKDIR, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  index: number;
  /** The `AS name`, lower-cased (Docker compares stage names case-insensitively). */
  name?: string;
  /** The FROM image after global ARG substitution, e.g. "golang:1.19", "scratch" or an earlier stage's name. */
  from: string;
  line: number;
  /** Instructions after FROM, in order. */
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  stages: Stage[];
  /** Problems that make a stage lookup meaningless (no FROM at all). */
  problems: string[];
}

/** What one instruction leaves in `docker history`: enough to recognise it, whichever builder ran it. */
export interface Step {
  keyword: string;
  /** RUN: the command with whitespace collapsed. COPY/ADD: the destination, when it can be known. */
  text?: string;
}

/** Instructions that always add a layer (a non-empty history entry), with the classic builder and BuildKit. */
export const LAYER_KEYWORDS: ReadonlySet<string> = new Set(['RUN', 'COPY', 'ADD']);

function logicalLines(text: string): Instruction[] {
  const raw = text.replace(/\r\n?/g, '\n').split('\n');
  let escape = '\\';
  // Parser directives come first, before any comment or instruction.
  for (const line of raw) {
    const m = /^#\s*(\w+)\s*=\s*(\S+)\s*$/.exec(line);
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
  }
  const out: Instruction[] = [];
  let i = 0;
  while (i < raw.length) {
    const first = raw[i]!;
    const startLine = i + 1;
    i++;
    if (/^\s*(#|$)/.test(first)) continue;
    let joined = first;
    // Continuation: a line ending in the escape character (optionally followed by blanks).
    let continued = endsWithEscape(joined, escape);
    if (continued) joined = joined.replace(/\s*$/, '').slice(0, -1);
    while (continued && i < raw.length) {
      const next = raw[i]!;
      i++;
      if (/^\s*(#|$)/.test(next)) continue; // comments and blank lines inside a continued instruction are dropped by Docker too
      continued = endsWithEscape(next, escape);
      joined += ' ' + (continued ? next.replace(/\s*$/, '').slice(0, -1) : next);
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(joined);
    if (!m) continue;
    const ins: Instruction = { keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: startLine };
    // Heredocs (RUN <<EOF ... EOF): the body belongs to the instruction, not to the parser.
    for (const h of ins.args.matchAll(/<<-?\s*["']?(\w+)["']?/g)) {
      const end = h[1]!;
      const body: string[] = [];
      while (i < raw.length) {
        const l = raw[i]!;
        i++;
        if (l.trim() === end) break;
        body.push(l);
      }
      ins.args += '\n' + body.join('\n');
    }
    out.push(ins);
  }
  return out;
}

function endsWithEscape(line: string, escape: string): boolean {
  return line.replace(/\s*$/, '').endsWith(escape);
}

function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{(\w+)(?::?[-+][^}]*)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = a ?? b!;
    if (vars.has(name)) return vars.get(name)!;
    // ${NAME:-default}
    const d = /^\$\{\w+:?-([^}]*)\}$/.exec(whole);
    return d ? d[1]! : '';
  });
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const globals = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of logicalLines(text)) {
    if (ins.keyword === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const from = substitute(parts[0] ?? '', globals);
      const asIdx = parts.findIndex((p) => p.toLowerCase() === 'as');
      const name = asIdx >= 0 ? parts[asIdx + 1]?.toLowerCase() : undefined;
      stages.push({ index: stages.length, name, from, line: ins.line, instructions: [] });
      continue;
    }
    const cur = stages[stages.length - 1];
    if (!cur) {
      if (ins.keyword === 'ARG') {
        for (const def of ins.args.split(/\s+/)) {
          const [k, ...v] = def.split('=');
          if (k) globals.set(k, v.join('=').replace(/^["']|["']$/g, ''));
        }
      }
      continue;
    }
    cur.instructions.push(ins);
  }
  return { stages, problems: stages.length === 0 ? ['it has no FROM instruction'] : [] };
}

/** Finds a stage by `AS` name (case-insensitive) or by index ("0", "1"). */
export function findStage(df: ParsedDockerfile, ref: string): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = df.stages.find((s) => s.name === lower);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) return df.stages[Number(ref)];
  return undefined;
}

/** The stages a stage builds on, outermost first, ending with the stage itself; and the external image at the root. */
export function stageChain(df: ParsedDockerfile, stage: Stage): { chain: Stage[]; root: string } {
  const chain: Stage[] = [stage];
  let cur = stage;
  for (;;) {
    const parent = df.stages.find((s) => s.index < cur.index && s.name !== undefined && s.name === cur.from.toLowerCase());
    if (!parent) break;
    chain.unshift(parent);
    cur = parent;
  }
  return { chain, root: cur.from };
}

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();

function splitArgs(args: string): string[] {
  const t = args.trim();
  if (t.startsWith('[')) {
    try {
      const arr: unknown = JSON.parse(t);
      if (Array.isArray(arr)) return arr.map(String);
    } catch {
      // Not JSON after all: Docker then treats it as shell form, and so do we.
    }
  }
  return t.split(/\s+/).filter(Boolean);
}

/** The history trace of a Dockerfile instruction. */
export function instructionStep(ins: Instruction): Step {
  if (ins.keyword === 'RUN') {
    let a = ins.args;
    if (a.includes('<<')) return { keyword: 'RUN' }; // heredoc bodies are recorded differently by each builder
    while (/^--\S+\s/.test(a)) a = a.replace(/^--\S+\s+/, ''); // BuildKit flags: --mount, --network, --security
    const t = a.trim();
    return { keyword: 'RUN', text: norm(t.startsWith('[') ? splitArgs(t).join(' ') : t) };
  }
  if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
    const parts = splitArgs(ins.args).filter((p) => !p.startsWith('--'));
    const dest = parts[parts.length - 1];
    // A destination with variables is recorded expanded; we can't expand it reliably, so we don't compare it.
    return { keyword: ins.keyword, text: dest && !dest.includes('$') ? dest : undefined };
  }
  return { keyword: ins.keyword };
}

const KEYWORDS = new Set([
  'RUN', 'COPY', 'ADD', 'CMD', 'ENTRYPOINT', 'ENV', 'ARG', 'WORKDIR', 'EXPOSE', 'LABEL', 'USER', 'VOLUME',
  'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'ONBUILD', 'MAINTAINER',
]);

function stripRunPrefix(cmd: string): string {
  let c = cmd.trim();
  // Classic builder with build args in scope: "|2 A=1 B=2 /bin/sh -c ..."
  const m = /^\|(\d+)\s+/.exec(c);
  if (m) {
    c = c.slice(m[0].length);
    for (let n = Number(m[1]); n > 0; n--) c = c.replace(/^\S+\s*/, '');
  }
  return c.replace(/^\/bin\/sh -c /, '');
}

/** Recognises a `docker history` "created by" line from the classic builder, BuildKit, or `docker import`. */
export function historyStep(createdBy: string): Step {
  const c = createdBy.trim();
  if (c === '') return { keyword: 'IMPORT' };
  const nop = /^\/bin\/sh -c #\(nop\)\s+(\w+)\s*(.*)$/s.exec(c);
  if (nop) {
    const keyword = nop[1]!.toUpperCase();
    if (keyword === 'COPY' || keyword === 'ADD') {
      const dest = /\sin\s+(\S+)\s*$/.exec(nop[2]!);
      return { keyword, text: dest?.[1] };
    }
    return { keyword };
  }
  const bk = /^(\w+)\s+(.*?)(?:\s+# buildkit)?$/s.exec(c);
  if (bk && KEYWORDS.has(bk[1]!) && !c.startsWith('/')) {
    const keyword = bk[1]!;
    if (keyword === 'RUN') return { keyword, text: norm(stripRunPrefix(bk[2]!)) };
    if (keyword === 'COPY' || keyword === 'ADD') {
      const parts = bk[2]!.split(/\s+/).filter((p) => !p.startsWith('--'));
      return { keyword, text: parts[parts.length - 1] };
    }
    return { keyword };
  }
  return { keyword: 'RUN', text: norm(stripRunPrefix(c)) };
}

const trimSlash = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** Whether a history entry can be the trace of an instruction. */
export function stepMatches(fromHistory: Step, fromDockerfile: Step): boolean {
  if (fromHistory.keyword !== fromDockerfile.keyword) return false;
  if (fromHistory.text === undefined || fromDockerfile.text === undefined) return true;
  if (fromDockerfile.keyword === 'RUN') return fromHistory.text.endsWith(fromDockerfile.text);
  return trimSlash(fromHistory.text) === trimSlash(fromDockerfile.text);
}

/** Shows a step as a learner would recognise it: "RUN go build -o app app.go". */
export function describeStep(s: Step): string {
  if (s.text === undefined) return s.keyword;
  return s.keyword === 'RUN' ? `RUN ${s.text}` : `${s.keyword} … ${s.text}`;
}
