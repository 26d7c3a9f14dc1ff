// Which sandbox image this checkout built. setup.sh tags each build by the hash of sandbox/image and
// writes that tag to sandbox/.image-tag; `lablab/sandbox:latest` is only a convenience name, which
// another checkout on the same engine (a second server, a worktree) may re-point at its own build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const IMAGE_TAG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.image-tag');
export const FALLBACK_SANDBOX_IMAGE = 'lablab/sandbox:latest';

/** The tag setup.sh recorded for this checkout, else the shared "latest". */
export function builtSandboxImage(file = IMAGE_TAG_FILE): string {
  try {
    const tag = fs.readFileSync(file, 'utf8').trim();
    if (/^[\w./-]+:[\w.-]+$/.test(tag)) return tag;
  } catch {
    // no setup run in this checkout yet: the shared name is all there is
  }
  return FALLBACK_SANDBOX_IMAGE;
}
