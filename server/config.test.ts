import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parseArgs, ConfigError } from './config.ts';

test('defaults: port 8080, labs/ and .data/ under the working directory, 4 h sessions', () => {
  const c = loadConfig([], {}, '/srv/app');
  assert.equal(c.port, 8080);
  assert.equal(c.labsDir, '/srv/app/labs');
  assert.equal(c.dataDir, '/srv/app/.data');
  assert.equal(c.dbFile, '/srv/app/.data/lablab.sqlite');
  assert.equal(c.sessionTtlMs, 4 * 3600_000);
});

test('flags beat env, env beats defaults', () => {
  const c = loadConfig(['--port', '9000', '--labs=/x'], { PORT: '7000', LABS_DIR: '/y', SESSION_TTL: '90s', MAX_SANDBOXES: '3' }, '/');
  assert.equal(c.port, 9000);
  assert.equal(c.labsDir, '/x');
  assert.equal(c.sessionTtlMs, 90_000);
  assert.equal(c.maxSandboxes, 3);
  assert.equal(loadConfig([], { PORT: '7000' }, '/').port, 7000);
});

test('bad values are errors that say what is wrong', () => {
  assert.throws(() => loadConfig(['--port', 'eighty'], {}, '/'), /port must be an integer/);
  assert.throws(() => loadConfig([], { SESSION_TTL: 'forever' }, '/'), /duration like 90s/);
  assert.throws(() => parseArgs(['--prot', '1'], ['port']), (e: unknown) => e instanceof ConfigError && /unknown option --prot/.test(e.message));
  assert.throws(() => parseArgs(['--port'], ['port']), /needs a value/);
  assert.throws(() => parseArgs(['stray'], ['port']), /unexpected argument/);
});

test('a project folder too deep for unix socket paths gets a short data dir', () => {
  const deep = '/srv/' + 'x'.repeat(80);
  const c = loadConfig([], {}, deep);
  assert.match(c.dataDir, /^\/var\/lib\/lablab\/[0-9a-f]{10}$/);
  assert.equal(loadConfig([], {}, deep).dataDir, c.dataDir, 'stable for the same folder');
  assert.equal(loadConfig(['--data', '/d'], {}, deep).dataDir, '/d');
});

test('SANDBOX_ALLOW_UNLIMITED: off unless exactly 1; anything else is an error, not a silent no', () => {
  assert.equal(loadConfig([], {}, '/').allowUnlimited, false);
  assert.equal(loadConfig([], { SANDBOX_ALLOW_UNLIMITED: '0' }, '/').allowUnlimited, false);
  assert.equal(loadConfig([], { SANDBOX_ALLOW_UNLIMITED: '1' }, '/').allowUnlimited, true);
  assert.throws(() => loadConfig([], { SANDBOX_ALLOW_UNLIMITED: 'yes' }, '/'), /SANDBOX_ALLOW_UNLIMITED must be 1 or 0/);
});

test('TERMINAL_TRANSPORT: auto by default; local or exec; anything else is an error', () => {
  assert.equal(loadConfig([], {}, '/').terminalTransport, 'auto');
  assert.equal(loadConfig([], { TERMINAL_TRANSPORT: 'exec' }, '/').terminalTransport, 'exec');
  assert.equal(loadConfig([], { TERMINAL_TRANSPORT: ' Local ' }, '/').terminalTransport, 'local');
  assert.throws(() => loadConfig([], { TERMINAL_TRANSPORT: 'ssh' }, '/'), /TERMINAL_TRANSPORT must be auto, local, pty or exec/);
});
