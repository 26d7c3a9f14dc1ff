// Ships images an engine lacks from one that has them: `docker save` on the source streamed
// straight into `docker load` on the target, through both engines' APIs (no registry, no file).
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { SandboxError } from './errors.ts';

export const SHIP_TUNING = {
  /** Progress is reported at most this often (bytes moved). */
  progressEveryBytes: 32 * 1024 ** 2,
};

export interface ShipProgress {
  image: string;
  sentBytes: number;
  /** The image's size on the source (uncompressed layers; the tar is about this big). */
  totalBytes: number;
  done: boolean;
}

async function has(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Ships each of `images` the target lacks; returns the ones shipped. */
export async function shipImages(opts: { from: Docker; to: Docker; images: string[]; onProgress?: (p: ShipProgress) => void; targetName?: string }): Promise<string[]> {
  const shipped: string[] = [];
  for (const image of opts.images) {
    if (await has(opts.to, image)) continue;
    let totalBytes: number;
    try {
      totalBytes = (await opts.from.getImage(image).inspect()).Size;
    } catch (err) {
      throw new SandboxError('sandbox_failed', `cannot ship ${image} to engine ${opts.targetName ?? ''}: the source engine does not have it (${(err as Error).message})`, { cause: err });
    }
    try {
      const tar = (await opts.from.getImage(image).get()) as NodeJS.ReadableStream;
      const counted = new PassThrough();
      let sent = 0;
      let reported = 0;
      counted.on('data', (c: Buffer) => {
        sent += c.length;
        if (sent - reported >= SHIP_TUNING.progressEveryBytes) {
          reported = sent;
          opts.onProgress?.({ image, sentBytes: sent, totalBytes, done: false });
        }
      });
      tar.on('error', (e) => counted.destroy(e as Error));
      tar.pipe(counted);
      const res = (await opts.to.loadImage(counted, { quiet: true })) as NodeJS.ReadableStream;
      // The load answers with a JSON stream; an error inside it (a truncated tar) is only seen there.
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      const failed = answer.split('\n').map((l) => { try { return JSON.parse(l) as { error?: string }; } catch { return {}; } }).find((m) => m.error);
      if (failed) throw new Error(failed.error);
      if (!(await has(opts.to, image))) throw new Error('the target engine loaded the stream but does not list the image');
      opts.onProgress?.({ image, sentBytes: sent, totalBytes, done: true });
      shipped.push(image);
    } catch (err) {
      throw new SandboxError('sandbox_failed', `could not ship ${image} to engine ${opts.targetName ?? ''}: ${(err as Error).message}`, { cause: err });
    }
  }
  return shipped;
}
