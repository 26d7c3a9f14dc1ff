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

test('ENGINES lists unix and ssh engines by URL; ids follow the order', () => {
  const es = parseEngines({ ENGINES: 'unix:///var/run/docker.sock, unix:///run/lablab/docker2.sock,ssh://lab@build-2:2222' }) as [EngineSpec, EngineSpec, EngineSpec];
  assert.deepEqual(es.map((e) => [e.id, e.protocol, e.local]), [['local', 'unix', true], ['e2', 'unix', true], ['e3', 'ssh', false]]);
  assert.equal(es[1].socketPath, '/run/lablab/docker2.sock');
  assert.deepEqual(dockerOptions(es[2], () => Buffer.alloc(0)), { protocol: 'ssh', host: 'build-2', port: 2222, username: 'lab' });
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
