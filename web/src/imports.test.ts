// The browser app and the server share one thing: server/protocol/. This keeps it that way.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROTOCOL = path.join(ROOT, 'server', 'protocol');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every relative module a file imports or re-exports (static and dynamic), resolved to a path. */
function relativeImports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const specs = [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => path.resolve(path.dirname(file), s));
}

const inside = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);

test('web/src imports nothing from server/ except server/protocol/', () => {
  const web = path.join(ROOT, 'web', 'src');
  const bad = tsFiles(web).flatMap((f) =>
    relativeImports(f)
      .filter((target) => !inside(target, web) && !inside(target, PROTOCOL))
      .map((target) => `${path.relative(ROOT, f)} imports ${path.relative(ROOT, target)}`),
  );
  assert.deepEqual(bad, []);
});

test('server/protocol/ imports nothing outside itself (no server-side code reaches the browser)', () => {
  const files = tsFiles(PROTOCOL);
  assert.ok(files.length > 0);
  const bad = files.flatMap((f) =>
    relativeImports(f)
      .filter((target) => !inside(target, PROTOCOL))
      .map((target) => `${path.relative(ROOT, f)} imports ${path.relative(ROOT, target)}`),
  );
  assert.deepEqual(bad, []);
});
