// A lab's own files as the lab text refers to them (pictures, front-matter assets) and as the
// server serves them. Pure path rules, shared by the renderer and the HTTP route so both agree
// on what "a file of this lab" means.
import type { LabAssets } from './state.ts';

/** Picture types a lab folder may serve, by extension. Nothing else leaves the folder over HTTP. */
export const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
};

/** A relative path inside the lab folder (not a URL, not absolute, no way out with ".."). */
export function isLocal(p: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('/') || p.startsWith('\\') || p.startsWith('#')) return false;
  return !cleanPath(p).split('/').includes('..');
}

/** "./images/a%20b.png?x#y" → "images/a b.png": the path as it is on disk, relative to the lab folder. */
export function cleanPath(p: string): string {
  let s = p.split(/[?#]/)[0] ?? p;
  try {
    s = decodeURI(s);
  } catch {
    // Keep the raw path: a malformed escape then simply reads as a missing file.
  }
  return s.replace(/^(\.\/)+/, '').replace(/\/+/g, '/');
}

/** URL of a lab file under `base`, each segment escaped. */
export function assetUrl(base: string, rel: string): string {
  return base + rel.split('/').map(encodeURIComponent).join('/');
}

export type ImageSource =
  /** Use this src (a URL, or a bare render that checks nothing). */
  | { kind: 'src'; src: string }
  /** A picture that is not a file of the lab folder: show the alt text instead. */
  | { kind: 'missing'; path: string };

/** Where a picture written as `src` in the lab comes from. */
export function resolveImage(src: string, assets: LabAssets | undefined): ImageSource {
  // URLs keep their scheme; which schemes may render is the sanitizer's and validateLink's call.
  if (!assets || /^[a-z][a-z0-9+.-]*:/i.test(src.trim())) return { kind: 'src', src };
  // "/x.png" or "../x.png" would be a file of this server or of another lab, never of this one.
  if (!isLocal(src)) return { kind: 'missing', path: src };
  const rel = cleanPath(src);
  if (!assets.exists(rel)) return { kind: 'missing', path: rel };
  return { kind: 'src', src: assets.base ? assetUrl(assets.base, rel) : src };
}

/**
 * The request path of an asset (already URL-decoded segments) as a relative path, or null when it
 * is not plainly a file of the folder: "..", ".", empty or hidden segments, backslashes, NUL,
 * drive letters, or a type that is not a picture.
 */
export function assetRequestPath(segments: readonly string[]): string | null {
  if (segments.length === 0) return null;
  const parts: string[] = [];
  for (const seg of segments) {
    // A decoded "%2F" or "%5C" puts a separator inside one segment: split again, then judge.
    for (const part of seg.split(/[/\\]/)) {
      if (part === '' || part.startsWith('.') || part.includes('\0') || /^[a-z]:$/i.test(part)) return null;
      parts.push(part);
    }
  }
  const ext = /\.([a-z0-9]+)$/i.exec(parts[parts.length - 1]!)?.[1]?.toLowerCase();
  if (!ext || !(ext in IMAGE_TYPES)) return null;
  return parts.join('/');
}
