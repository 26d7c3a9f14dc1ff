// LABS_REPOS: git repositories whose labs are served beside the local labs folder. Pure: the text in,
// checked specs out. Each entry is `URL`, `URL#branch` or `URL#branch:subfolder` (`URL#:subfolder` for
// the default branch), separated by commas, spaces or newlines.
//
// Only the ways a host reaches a repository are accepted: https, http, git, ssh and ssh's
// `user@host:path`. Local paths, file:// and git's transport helpers (`ext::…`, which runs a command)
// are refused, as is anything git could read as an option. git is also told the same list
// (GIT_ALLOW_PROTOCOL, see git-cli.ts), so a redirect cannot lead elsewhere.
import crypto from 'node:crypto';

export interface LabsRepo {
  /** As written in LABS_REPOS. */
  spec: string;
  url: string;
  /** Absent: the repository's default branch. */
  branch?: string;
  /** Folder inside the repository that holds the labs ("" = its root), "/"-separated. */
  subdir: string;
  /** Folder name under the data dir: readable, and unique per spec. */
  key: string;
  /** The URL without any password or token, for logs and pages. */
  display: string;
}

const SCHEMES = new Set(['https:', 'http:', 'git:', 'ssh:']);
/** ssh's short form: user@host:path (no scheme, no "//" after the colon). */
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)[A-Za-z0-9._~/-]+$/;
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]+(?<![/.])(?<!\.lock)$/;
const SEGMENT = /^[A-Za-z0-9._ -]+$/;

export class LabsRepoError extends Error {}

export function parseLabsRepos(raw: string | undefined): LabsRepo[] {
  const entries = (raw ?? '').split(/[\s,]+/).filter(Boolean);
  const out = entries.map(parseLabsRepo);
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.key)) throw new LabsRepoError(`LABS_REPOS lists ${r.display} twice`);
    seen.add(r.key);
  }
  return out;
}

export function parseLabsRepo(spec: string): LabsRepo {
  const hash = spec.lastIndexOf('#');
  const url = hash >= 0 ? spec.slice(0, hash) : spec;
  const ref = hash >= 0 ? spec.slice(hash + 1) : '';
  const colon = ref.indexOf(':');
  const branch = colon >= 0 ? ref.slice(0, colon) : ref;
  const subdir = (colon >= 0 ? ref.slice(colon + 1) : '').replace(/^\/+|\/+$/g, '');
  const display = checkUrl(url, spec);
  if (branch !== '' && !BRANCH.test(branch)) throw new LabsRepoError(`LABS_REPOS entry "${redact(spec)}": "${branch}" is not a branch name`);
  if (subdir !== '' && !subdir.split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) {
    throw new LabsRepoError(`LABS_REPOS entry "${redact(spec)}": the folder "${subdir}" must be a plain path inside the repository (letters, digits, . _ - and /, no "..")`);
  }
  const readable = display.replace(/^[a-z]+:\/\//, '').replace(/\.git$/, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(-48);
  const key = `${readable}-${crypto.createHash('sha256').update(spec).digest('hex').slice(0, 10)}`;
  const r: LabsRepo = { spec, url, subdir, key, display: `${display}${branch ? `#${branch}` : ''}${subdir ? `:${subdir}` : ''}` };
  if (branch) r.branch = branch;
  return r;
}

/** The URL as logs may show it, or a LabsRepoError saying why it is refused. */
function checkUrl(url: string, spec: string): string {
  const refuse = (why: string): never => {
    throw new LabsRepoError(`LABS_REPOS entry "${redact(spec)}" is refused: ${why}. Use https://, http://, git://, ssh:// or user@host:path`);
  };
  if (url === '') refuse('no URL');
  if (/[\s\0-\x1f\x7f]/.test(url)) refuse('it has spaces or control characters');
  if (url.startsWith('-')) refuse('it starts with "-"');
  if (url.includes('::')) refuse('git transport helpers ("…::") run programs');
  if (SCP_LIKE.test(url)) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return refuse('it is not a URL (local paths are not served)');
  }
  if (!SCHEMES.has(u.protocol)) refuse(`${u.protocol.replace(/:$/, '')}: is not a protocol a host serves repositories with`);
  if (!u.hostname || u.hostname.startsWith('-')) refuse('it names no host');
  if (u.search || u.hash) refuse('it has a query');
  u.password = '';
  if (u.protocol !== 'ssh:') u.username = '';
  return u.toString();
}

function redact(spec: string): string {
  return spec.replace(/\/\/[^/@]*@/, '//…@');
}
