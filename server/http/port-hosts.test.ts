import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterResponseHeaders, forwardCookies, labKey, parsePortHost, portHost, signToken, verifyToken } from './port-hosts.ts';

const pattern = 'p{port}-{node}-{lab}.ports.test';

test('each port of each node of each lab has its own host, and the host parses back', () => {
  const lab = labKey('multi-stage');
  assert.match(lab, /^[0-9a-f]{10}$/);
  const host = portHost(pattern, { port: 8080, node: 2, lab });
  assert.equal(host, `p8080-2-${lab}.ports.test`);
  assert.deepEqual(parsePortHost(pattern, `${host}:3000`), { port: 8080, node: 2, lab });
  assert.deepEqual(parsePortHost(pattern, host.toUpperCase()), { port: 8080, node: 2, lab });
  for (const h of [undefined, '127.0.0.1:3000', 'ports.test', `p8080-7-${lab}.ports.test`, `p99999-1-${lab}.ports.test`, `p80-1-${lab}.ports.test.evil.com`, `x.p80-1-${lab}.ports.test`, `p80-1-${lab}Xports.test`]) {
    assert.equal(parsePortHost(pattern, h), null, String(h));
  }
});

test('a hand-over token is for one learner, one host, one minute', () => {
  const now = 1_000_000;
  const t = signToken('s3cret', 'learner-1', 'p80-1-0123456789.ports.test:8080', now);
  assert.equal(verifyToken('s3cret', t, 'p80-1-0123456789.ports.test', now + 1000), 'learner-1');
  assert.equal(verifyToken('s3cret', t, 'p81-1-0123456789.ports.test', now), undefined, 'another host');
  assert.equal(verifyToken('other', t, 'p80-1-0123456789.ports.test', now), undefined, 'another secret');
  assert.equal(verifyToken('s3cret', t, 'p80-1-0123456789.ports.test', now + 61_000), undefined, 'expired');
  const [body, sig] = t.split('.');
  const forged = Buffer.from(JSON.stringify({ l: 'learner-2', h: 'p80-1-0123456789.ports.test', e: now + 5000 })).toString('base64url');
  assert.equal(verifyToken('s3cret', `${forged}.${sig}`, 'p80-1-0123456789.ports.test', now), undefined, 'forged body');
  assert.equal(verifyToken('s3cret', `${body}`, 'p80-1-0123456789.ports.test', now), undefined);
});

test('our cookies never reach the learner app; theirs do', () => {
  assert.equal(forwardCookies('lab_port=abc; app=1; lab_learner=x; theme=dark', ['lab_port', 'lab_learner']), 'app=1; theme=dark');
  assert.equal(forwardCookies('lab_port=abc', ['lab_port']), undefined);
});

test('upstream Set-Cookie and HSTS cannot reach the product origin', () => {
  const up = {
    'content-type': 'text/html',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'set-cookie': ['sid=1; Path=/; Domain=ports.test; HttpOnly', 'lab_port=forged; Path=/', 'lab_learner=evil', 'theme=dark'],
    connection: 'keep-alive',
  };
  const hostMode = filterResponseHeaders(up, 'host', ['lab_port', 'lab_learner']);
  assert.deepEqual(hostMode, { 'content-type': 'text/html', 'set-cookie': ['sid=1; Path=/; HttpOnly', 'theme=dark'] });
  const pathMode = filterResponseHeaders(up, 'path', ['lab_port', 'lab_learner']);
  assert.deepEqual(pathMode, { 'content-type': 'text/html' });
});

test('PORT_HOST_PATTERN and UPLOAD_LIMIT_MB are read and checked at start', async () => {
  const { loadConfig, ConfigError } = await import('../config.ts');
  const c = loadConfig([], { PORT_HOST_PATTERN: 'P{port}-{node}-{lab}.Ports.Example.org', UPLOAD_LIMIT_MB: '5' }, '/tmp');
  assert.equal(c.portHostPattern, 'p{port}-{node}-{lab}.ports.example.org');
  assert.equal(c.maxUploadBytes, 5_000_000);
  assert.equal(loadConfig([], {}, '/tmp').maxUploadBytes, 100_000_000);
  assert.equal(loadConfig([], {}, '/tmp').portHostPattern, undefined);
  assert.throws(() => loadConfig([], { PORT_HOST_PATTERN: 'p{port}.example.org' }, '/tmp'), ConfigError);
  assert.throws(() => loadConfig([], { PORT_HOST_PATTERN: 'p{port}-{node}-{lab}.example.org/x' }, '/tmp'), ConfigError);
});
