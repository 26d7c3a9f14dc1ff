import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtSandboxImage, FALLBACK_SANDBOX_IMAGE } from './image-tag.ts';

test("the driver uses this checkout's own sandbox build, not whatever 'latest' points at", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-tag-'));
  try {
    const f = path.join(dir, '.image-tag');
    assert.equal(builtSandboxImage(f), FALLBACK_SANDBOX_IMAGE, 'no file: the shared name');
    fs.writeFileSync(f, 'lablab/sandbox:0123abcd4567\n');
    assert.equal(builtSandboxImage(f), 'lablab/sandbox:0123abcd4567');
    fs.writeFileSync(f, 'not a tag; rm -rf /\n');
    assert.equal(builtSandboxImage(f), FALLBACK_SANDBOX_IMAGE, 'junk is ignored');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
