// GET /labs/:id/assets/<path>: a lab's own pictures, from its folder and nowhere else. Only picture
// types; no "..", hidden or empty segments (decoded or not); a symlink that leads out of the
// folder is as absent as a missing file. Everything that is not served is a plain 404, so a probe
// learns nothing about the disk.
import type { NextFunction, Request, Response } from 'express';
import fs from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_TYPES, assetRequestPath } from '../labs/assets.ts';
import type { Lab } from '../labs/types.ts';
import { AppError } from '../errors.ts';

/** Express path of the route; `file` holds the segments after "assets/". */
export const LAB_ASSETS_ROUTE = '/labs/:id/assets/*file';

export interface LabAssetsDeps {
  labs: { get(id: string): Lab | undefined };
}

export function createLabAssets(deps: LabAssetsDeps) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const notFound = () => next(new AppError('not_found', 'There is no such picture in this lab.'));
    const lab = deps.labs.get(String(req.params.id));
    const raw = (req.params as Record<string, unknown>).file;
    const rel = assetRequestPath(Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : []);
    const dir = lab?.picturesDir ?? lab?.assetsDir;
    if (!dir || rel === null) return notFound();
    const file = await inside(dir, rel);
    if (!file) return notFound();
    const ext = path.extname(file).slice(1).toLowerCase();
    res.setHeader('Content-Type', IMAGE_TYPES[ext]!);
    // An SVG opened on its own is a document: no scripts, no requests, no forms, whatever it holds.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    res.setHeader('Cache-Control', 'no-cache'); // authors replace pictures while previewing; ETag keeps it cheap
    res.sendFile(file, { dotfiles: 'allow', headers: { 'Content-Type': IMAGE_TYPES[ext]! } }, (err) => {
      if (err && !res.headersSent) notFound();
    });
  };
}

/** The real path of `rel` under `root` when it is a regular file that really is inside it, else null. */
async function inside(root: string, rel: string): Promise<string | null> {
  try {
    const realRoot = await fs.realpath(root);
    const real = await fs.realpath(path.join(realRoot, rel));
    if (!real.startsWith(realRoot + path.sep)) return null;
    const st = await fs.stat(real);
    if (!st.isFile()) return null;
    // The type is judged on the file served, not on the name asked for (a "x.png" link to "lab.md").
    const ext = path.extname(real).slice(1).toLowerCase();
    return ext in IMAGE_TYPES ? real : null;
  } catch {
    // Missing, unreadable or a dangling link: all the same to the asker.
    return null;
  }
}
