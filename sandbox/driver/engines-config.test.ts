import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerOptions, parseEngines, type EngineSpec } from './engines-config.ts';
import { SandboxError } from './errors.ts';

const refused = (re: RegExp) => (e: unknown) => e instanceof SandboxError && e.code === 'bad_request' && re.test(e.message);

test('with nothing set, the local engine alone', () => {
  const [e, ...rest] = parseEngines({}) as [EngineSpec, ...EngineSpec[]];
  assert.equal(rest.length, 0);
  assert.deepEqual({ id: e.id, protocol: e.protocol, socketPath: e.socketPath, local: e.local }, { id: 'local', protocol: 'unix', socketPath: '/var/run/docker.sock', local: true });
});

test('ENGINES lists unix engines by URL; ids follow the order', () => {
  const es = parseEngines({ ENGINES: 'unix:///var/run/docker.sock, unix:///run/lablab/docker2.sock' }) as [EngineSpec, EngineSpec];
  assert.deepEqual(es.map((e) => [e.id, e.protocol, e.local]), [['local', 'unix', true], ['e2', 'unix', true]]);
  assert.equal(es[1].socketPath, '/run/lablab/docker2.sock');
});

test('an ssh engine needs its host key, which only ENGINES_FILE can give; only that key is accepted', () => {
  assert.throws(() => parseEngines({ ENGINES: 'unix:///var/run/docker.sock,ssh://lab@build-2:2222' }), refused(/no hostKey/));
  const file = 'engines:\n  - url: unix:///var/run/docker.sock\n  - url: ssh://lab@build-2:2222\n    identityFile: /etc/lablab/id\n    hostKey: /etc/lablab/build-2.pub\n';
  const es = parseEngines({}, file) as [EngineSpec, EngineSpec];
  assert.deepEqual([es[1].id, es[1].protocol, es[1].local], ['e2', 'ssh', false]);
  const blob = Buffer.from('the host key blob');
  const files: Record<string, string> = { '/etc/lablab/id': 'PRIVATE', '/etc/lablab/build-2.pub': `ssh-ed25519 ${blob.toString('base64')} root@build-2\n` };
  const opts = dockerOptions(es[1], (p) => Buffer.from(files[p]!)) as { host: string; port: number; username: string; sshOptions: { privateKey: Buffer; hostVerifier: (k: Buffer) => boolean } };
  assert.deepEqual([opts.host, opts.port, opts.username, String(opts.sshOptions.privateKey)], ['build-2', 2222, 'lab', 'PRIVATE']);
  assert.equal(opts.sshOptions.hostVerifier(blob), true);
  assert.equal(opts.sshOptions.hostVerifier(Buffer.from('another host')), false);
});

test('a tcp engine needs TLS, which only ENGINES_FILE can give', () => {
  assert.throws(() => parseEngines({ ENGINES: 'tcp://build-2:2376' }), refused(/no TLS certificates/));
  const file = 'engines:\n  - url: unix:///var/run/docker.sock\n  - id: big\n    url: tcp://build-2:2376\n    drain: true\n    maxSandboxes: 40\n    tls: { ca: /etc/lablab/ca.pem, cert: /etc/lablab/cert.pem, key: /etc/lablab/key.pem }\n';
  const es = parseEngines({ ENGINES: 'ignored://x' }, file) as [EngineSpec, EngineSpec];
  assert.deepEqual(es.map((e) => e.id), ['local', 'big']);
  assert.equal(es[1].maxSandboxes, 40);
  assert.deepEqual(es.map((e) => e.drain), [false, true]);
  const opts = dockerOptions(es[1], (p) => Buffer.from(p));
  assert.equal(opts.protocol, 'https');
  assert.equal(String(opts.ca), '/etc/lablab/ca.pem');
  assert.equal(es[1].local, false);
});

test('bad addresses and duplicate ids are refused with a way out', () => {
  assert.throws(() => parseEngines({ ENGINES: 'http://x:2375' }), refused(/not an engine address/));
  assert.throws(() => parseEngines({ ENGINES: 'not a url' }), refused(/is not a URL/));
  assert.throws(() => parseEngines({}, '[{ "id": "a", "url": "unix:///a.sock" }, { "id": "a", "url": "unix:///b.sock" }]'), refused(/listed twice/));
  assert.throws(() => parseEngines({}, 'engines: []'), refused(/lists no engines/));
});
