import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../config.ts';

test('LABS_REPOS, LABS_HOOK_SECRET and LABS_REFRESH: read at start, a bad value stops the server with the reason', () => {
  const c = loadConfig([], { LABS_REPOS: 'https://example.org/labs.git#main:course', LABS_HOOK_SECRET: 'sixteen-chars-at-least', LABS_REFRESH: '15m' }, '/w');
  assert.deepEqual(c.labsRepos.map((r) => [r.url, r.branch, r.subdir]), [['https://example.org/labs.git', 'main', 'course']]);
  assert.equal(c.labsHookSecret, 'sixteen-chars-at-least');
  assert.equal(c.labsRefreshMs, 900_000);
  const d = loadConfig([], {}, '/w');
  assert.deepEqual([d.labsRepos, d.labsHookSecret, d.labsRefreshMs], [[], undefined, 0]);
  assert.throws(() => loadConfig([], { LABS_REPOS: 'file:///srv/labs.git' }, '/w'), (e: Error) => e instanceof ConfigError && /file: is not a protocol/.test(e.message));
  assert.throws(() => loadConfig([], { LABS_HOOK_SECRET: 'short' }, '/w'), /at least 16 characters/);
  assert.throws(() => loadConfig([], { LABS_REFRESH: 'often' }, '/w'), /LABS_REFRESH must be a duration/);
});
