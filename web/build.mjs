// Bundles the browser app into web/dist with esbuild. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const options = {
  // The editor is its own bundle, fetched only when the Files tab is first opened.
  entryPoints: { app: path.join(here, 'src/main.ts'), editor: path.join(here, 'src/editor/codemirror.ts') },
  outdir: path.join(here, 'dist'),
  bundle: true,
  format: 'iife',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
};
if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('[web] watching for changes');
} else {
  const t = Date.now();
  await esbuild.build(options);
  console.log(`[web] bundled into web/dist in ${Date.now() - t} ms`);
}
