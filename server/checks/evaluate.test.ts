import { cleanShellArgv } from './clean-shell.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckSpec } from './types.ts';
import { evaluateCheck, evaluateChecks } from './evaluate.ts';
import { parseChecks } from '../labs/checks.ts';
import {
  MULTI_STAGE_DOCKERFILE, WORKDIR, builderStage, busybox, container, debian, fakeContext, fakeEngine, golang, image, normal, optimized,
} from './fakes.test-support.ts';
import { createFakeTimers } from '../fake-timers.test-support.ts';

const ALL = [debian, golang, busybox, builderStage, optimized, normal];
const base = { id: 'c1', line: 10 };
type SpecInput = CheckSpec extends infer S ? (S extends CheckSpec ? Omit<S, 'id' | 'line'> : never) : never;
const spec = (s: SpecInput): CheckSpec => ({ ...base, ...s }) as CheckSpec;

async function check(s: CheckSpec, opts: { images?: typeof ALL; setup?: (ctx: ReturnType<typeof fakeContext>) => void; timeoutMs?: number } = {}) {
  const engine = fakeEngine(opts.images ?? ALL, [
    container({ name: 'web', state: 'running', ports: [{ containerPort: 8080, protocol: 'tcp', hostPort: 80 }] }),
    container({ name: 'job', state: 'exited', exitCode: 0 }),
    container({ name: 'crashed', state: 'exited', exitCode: 2 }),
  ]);
  engine.logs.set('web', 'Listening on :8080\nWelcome to the lab!\n');
  engine.paths.set('welcome-optimized:v1', new Set(['/welcome']));
  engine.paths.set('welcome:v1', new Set(['/out/welcome', '/usr/bin/go']));
  const ctx = fakeContext(engine);
  ctx.sandbox.files.set(`${WORKDIR}/Dockerfile`, MULTI_STAGE_DOCKERFILE);
  ctx.sandbox.files.set(`${WORKDIR}/welcome.go`, 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("Welcome!") }\n');
  ctx.sandbox.dirs.add(`${WORKDIR}/src`);
  opts.setup?.(ctx);
  return evaluateCheck(s, ctx, { timeoutMs: opts.timeoutMs ?? 2000 });
}

describe('image.exists', () => {
  it('passes when the image is there, and says how big it is', async () => {
    const r = await check(spec({ kind: 'image.exists', image: 'welcome-optimized:v1', exists: true }));
    assert.equal(r.status, 'pass');
    assert.equal(r.actual, '1.81 MB');
    assert.equal(r.id, 'c1');
  });
  it('a missing image tells the learner to run the build', async () => {
    const r = await check(spec({ kind: 'image.exists', image: 'nope:v1', exists: true }));
    assert.equal(r.status, 'fail');
    assert.equal(r.message, 'No image named nope:v1 yet — run the build block above.');
    assert.equal(r.actual, 'no such image');
  });
  it('exists: false passes once the image is removed, and fails with the rmi command while it is there', async () => {
    assert.equal((await check(spec({ kind: 'image.exists', image: 'nope:v1', exists: false }))).status, 'pass');
    const r = await check(spec({ kind: 'image.exists', image: 'welcome:v1', exists: false }));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /docker rmi welcome:v1/);
  });
});

describe('image.size', () => {
  it('an 867 MB image fails a small-size check with a concrete message', async () => {
    const big = image({ ...{ name: 'welcome-optimized:v1', sizeBytes: 866_700_000 }, layers: ['x'], history: [['/bin/sh -c x', 1]] });
    const r = await check(spec({ kind: 'image.size', image: 'welcome-optimized:v1', maxBytes: 20_000_000 }), { images: [big] });
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, '867 MB');
    assert.equal(r.expected, 'at most 20 MB');
    assert.equal(r.message, 'welcome-optimized:v1 is 867 MB; this step expects at most 20 MB — is the last stage `FROM scratch` (or a small base), copying only the built program?');
  });
  it('an 805 MB image never passes a small-size check', async () => {
    const r = await check(spec({ kind: 'image.size', image: 'welcome:v1', maxBytes: 20_000_000 }));
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, '805 MB');
  });
  it('a 1.8 MB image passes', async () => {
    const r = await check(spec({ kind: 'image.size', image: 'welcome-optimized:v1', maxBytes: 20_000_000 }));
    assert.equal(r.status, 'pass');
    assert.equal(r.message, 'welcome-optimized:v1 is 1.81 MB (at most 20 MB).');
  });
  it('minBytes and ranges', async () => {
    assert.equal((await check(spec({ kind: 'image.size', image: 'welcome:v1', minBytes: 500_000_000 }))).status, 'pass');
    const r = await check(spec({ kind: 'image.size', image: 'welcome-optimized:v1', minBytes: 500_000_000, maxBytes: 1_000_000_000 }));
    assert.equal(r.status, 'fail');
    assert.equal(r.expected, 'between 500 MB and 1 GB');
  });
  it('near the limit, exact bytes are shown so the two numbers never look equal', async () => {
    const img = image({ name: 'edge:v1', sizeBytes: 20_001_234, layers: ['e'], history: [['/bin/sh -c e', 1]] });
    const r = await check(spec({ kind: 'image.size', image: 'edge:v1', maxBytes: 20_000_000 }), { images: [img] });
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, '20 MB (20,001,234 bytes)');
    assert.match(r.message, /this step expects at most 20 MB \(at most 20,000,000 bytes\) — /);
  });
  it('bounds from the lab parser read back as the author wrote them: "< 20 MB", "> 500 MB"', async () => {
    let r = await check(spec({ kind: 'image.size', image: 'welcome:v1', maxBytes: 19_999_999 }));
    assert.equal(r.message, 'welcome:v1 is 805 MB; this step expects under 20 MB — is the last stage `FROM scratch` (or a small base), copying only the built program?');
    r = await check(spec({ kind: 'image.size', image: 'welcome-optimized:v1', minBytes: 500_000_001 }));
    assert.equal(r.expected, 'over 500 MB');
    const at = image({ name: 'at:v1', sizeBytes: 20_000_000, layers: ['a'], history: [['/bin/sh -c a', 1]] });
    r = await check(spec({ kind: 'image.size', image: 'at:v1', maxBytes: 19_999_999 }), { images: [at] });
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, '20 MB (20,000,000 bytes)');
  });
  it("an author hint stays out of the message (it is shown apart, after two failures)", async () => {
    const r = await check({ ...base, kind: 'image.size', image: 'welcome:v1', maxBytes: 20_000_000, hint: 'use the multi-stage Dockerfile.' });
    assert.equal(r.status, 'fail');
    assert.doesNotMatch(r.message, /multi-stage Dockerfile/);
  });
  it('missing image', async () => {
    const r = await check(spec({ kind: 'image.size', image: 'gone:v1', maxBytes: 1 }));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /^No image named gone:v1 yet/);
  });
});

describe('image.layers', () => {
  it('counts rootfs layers', async () => {
    assert.equal((await check(spec({ kind: 'image.layers', image: 'welcome-optimized:v1', max: 1 }))).status, 'pass');
    const r = await check(spec({ kind: 'image.layers', image: 'welcome:v1', max: 2 }));
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, '10 layers');
    assert.match(r.message, /^welcome:v1 has 10 layers; this step expects at most 2 layers — /);
    assert.equal((await check(spec({ kind: 'image.layers', image: 'welcome:v1', min: 8 }))).status, 'pass');
    assert.equal((await check(spec({ kind: 'image.layers', image: 'welcome:v1', min: 3, max: 3 }))).expected, 'exactly 3 layers');
  });
  it('missing image', async () => {
    assert.match((await check(spec({ kind: 'image.layers', image: 'x:y', max: 1 }))).message, /^No image named x:y/);
  });
});

describe('image.base scratch', () => {
  const scratch = (img: string, shares = true) => spec({ kind: 'image.base', image: img, base: 'scratch', shares });
  it('a FROM scratch + COPY image is from scratch', async () => {
    const r = await check(scratch('welcome-optimized:v1'));
    assert.equal(r.status, 'pass', r.message);
  });
  it('an image FROM golang:1.19 is not, and the message names the base', async () => {
    const r = await check(scratch('welcome:v1'));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /^welcome:v1 is built on golang:1\.19 \(its first 7 layers are that image's\); this step expects built FROM scratch/);
    assert.equal((await check(scratch('welcome:v1', false))).status, 'pass');
  });
  it('FROM busybox (itself from scratch) is not from scratch', async () => {
    const onBusybox = image({ name: 'tool:v1', sizeBytes: 2_000_000, layers: ['busybox-bin', 'busybox-links', 't'], history: [...busybox.history.map((h): [string, number] => [h.createdBy, h.sizeBytes]), ['/bin/sh -c #(nop) COPY file:aa in /tool ', 10]] });
    const r = await check(scratch('tool:v1'), { images: [...ALL, onBusybox] });
    assert.equal(r.status, 'fail');
    assert.match(r.message, /built on busybox:latest/);
  });
  it('FROM golang:1.19 with only ENV/CMD (no new layer) is not from scratch', async () => {
    const cfgOnly = image({ name: 'cfg:v1', sizeBytes: golang.sizeBytes, layers: ['debian-rootfs', 'go-certs', 'go-git', 'go-gcc', 'go-golang', 'go-mkdir', 'go-workdir'], history: [...golang.history.map((h): [string, number] => [h.createdBy, h.emptyLayer ? -1 : h.sizeBytes]), ['/bin/sh -c #(nop)  ENV A=1', -1]] });
    const r = await check(scratch('cfg:v1'), { images: [...ALL, cfgOnly] });
    assert.equal(r.status, 'fail');
    assert.match(r.message, /golang:1\.19/);
  });
  it('two FROM scratch images whose first COPY is identical are both from scratch (siblings, not parent and child)', async () => {
    const v2 = image({ name: 'welcome-optimized:v2', sizeBytes: 1_812_000, layers: ['o-copy'], history: [[optimized.history[0]!.createdBy, 1_812_000], ['/bin/sh -c #(nop)  CMD ["/welcome","--loud"]', -1]] });
    assert.equal((await check(scratch('welcome-optimized:v1'), { images: [...ALL, v2] })).status, 'pass');
    assert.equal((await check(scratch('welcome-optimized:v2'), { images: [...ALL, v2] })).status, 'pass');
  });
  it('when the base was deleted, an imported OS filesystem at the bottom of the history still gives it away', async () => {
    const r = await check(scratch('welcome:v1'), { images: [normal, optimized] });
    assert.equal(r.status, 'fail');
    assert.match(r.message, /imported base filesystem/);
  });
  it('missing image', async () => {
    assert.match((await check(scratch('none:v1'))).message, /^No image named none:v1 yet/);
  });
});

describe('image.base with a named image', () => {
  it('shares: the golang-built image contains all golang layers; the scratch one does not', async () => {
    const s = (img: string, shares: boolean) => spec({ kind: 'image.base', image: img, base: 'golang:1.19', shares });
    let r = await check(s('welcome:v1', true));
    assert.equal(r.status, 'pass');
    assert.equal(r.actual, 'contains all 7 layers of golang:1.19');
    r = await check(s('welcome-optimized:v1', true));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /shares 0 of golang:1\.19's 7 layers; this step expects built on golang:1\.19 — does its Dockerfile start with `FROM golang:1\.19`\?/);
    assert.equal((await check(s('welcome-optimized:v1', false))).status, 'pass');
    r = await check(s('welcome:v1', false));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /867 MB of it/);
  });
  it('an image on debian shares only the first golang layer: it is not built on golang', async () => {
    const onDebian = image({ name: 'deb-app:v1', sizeBytes: 120_000_000, layers: ['debian-rootfs', 'd1'], history: [['', 1], ['/bin/sh -c #(nop) COPY file:x in /app ', 5]] });
    const r = await check(spec({ kind: 'image.base', image: 'deb-app:v1', base: 'golang:1.19', shares: true }), { images: [...ALL, onDebian] });
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, "shares 1 of golang:1.19's 7 layers");
  });
  it('a missing base image to compare with is said plainly', async () => {
    const r = await check(spec({ kind: 'image.base', image: 'welcome:v1', base: 'golang:1.22', shares: true }));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /no image named golang:1\.22 in the sandbox/);
  });
});

describe('image.config', () => {
  const cfg = (o: object) => spec({ kind: 'image.config', image: 'welcome:v1', ...o } as never);
  it('equals and contains over every field', async () => {
    const pass = [
      { field: 'cmd', equals: ['/out/welcome'] },
      { field: 'cmd', equals: '/out/welcome' },
      { field: 'entrypoint', equals: null },
      { field: 'workdir', equals: '/src' },
      { field: 'env', contains: 'GOPATH=/go' },
      { field: 'exposedPorts', contains: '8080' },
      { field: 'exposedPorts', equals: ['8080'] },
      { field: 'labels', contains: 'org.example.lab=welcome' },
      { field: 'labels', equals: { 'org.example.lab': 'welcome' } },
      { field: 'user', equals: '' },
    ];
    for (const p of pass) assert.equal((await check(cfg(p))).status, 'pass', JSON.stringify(p));
  });
  it('fails with what is there', async () => {
    const r = await check(cfg({ field: 'cmd', equals: ['./app'] }));
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, 'CMD ["/out/welcome"]');
    assert.match(r.message, /^welcome:v1 has CMD \["\/out\/welcome"\]; this step expects CMD \["\.\/app"\]/);
    const u = await check(cfg({ field: 'user', equals: 'app' }));
    assert.equal(u.actual, 'USER not set');
    assert.equal((await check(cfg({ field: 'exposedPorts', contains: '9090' }))).status, 'fail');
  });
  it('missing image', async () => {
    assert.match((await check(spec({ kind: 'image.config', image: 'no:v', field: 'cmd', equals: [] }))).message, /^No image named no:v/);
  });
});

describe('image.path', () => {
  it('present, absent, and the reverse', async () => {
    assert.equal((await check(spec({ kind: 'image.path', image: 'welcome-optimized:v1', path: '/welcome', exists: true }))).status, 'pass');
    const r = await check(spec({ kind: 'image.path', image: 'welcome:v1', path: '/usr/bin/go', exists: false }));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /^welcome:v1 still contains \/usr\/bin\/go/);
    assert.equal((await check(spec({ kind: 'image.path', image: 'welcome-optimized:v1', path: '/usr/bin/go', exists: false }))).status, 'pass');
    assert.equal((await check(spec({ kind: 'image.path', image: 'welcome-optimized:v1', path: '/app', exists: true }))).status, 'fail');
  });
  it('missing image', async () => {
    assert.match((await check(spec({ kind: 'image.path', image: 'no:v', path: '/', exists: true }))).message, /^No image named no:v/);
  });
});

describe('image.target', () => {
  const target = (img: string, stage = 'build', dockerfile = 'Dockerfile') => spec({ kind: 'image.target', image: img, stage, dockerfile });
  it('the --target build image is the build stage, and the message says why', async () => {
    const r = await check(target('welcome-builder:v1'));
    assert.equal(r.status, 'pass', r.message);
    assert.equal(r.message, "welcome-builder:v1 is the `build` stage: it starts with golang:1.19's 7 layers and its last build step is `RUN CGO_ENABLED=0 go build -o /out/welcome welcome.go`, and it is not the final stage (`FROM scratch`).");
  });
  it('the full build (final stage) fails: built without --target', async () => {
    const r = await check(target('welcome-optimized:v1'));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /^welcome-optimized:v1 is the final stage \(`FROM scratch`\), not `build`/);
    assert.match(r.message, /docker build --target build -t welcome-optimized:v1/);
  });
  it('a single-stage build with the same steps plus more is still told apart by its base and steps', async () => {
    const other = image({ name: 'other:v1', sizeBytes: 870_000_000, layers: [...golang.layers.map(() => ''), 'z'].map((_, i) => (i < 7 ? ['debian-rootfs', 'go-certs', 'go-git', 'go-gcc', 'go-golang', 'go-mkdir', 'go-workdir'][i]! : 'z')), history: [...golang.history.map((h): [string, number] => [h.createdBy, h.emptyLayer ? -1 : h.sizeBytes]), ['/bin/sh -c go test ./...', 1]] });
    const r = await check(target('other:v1'), { images: [...ALL, other] });
    assert.equal(r.status, 'fail');
    assert.match(r.message, /not the `build` stage: it has 1 build step on top of golang:1\.19, the stage has 2/);
  });
  it('a stage that does not exist, a missing Dockerfile, a missing image', async () => {
    let r = await check(target('welcome-builder:v1', 'tests'));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /Dockerfile has no stage named `tests` \(its stages: build, 1\)/);
    r = await check(target('welcome-builder:v1', 'build', 'app/Dockerfile'));
    assert.match(r.message, /There is no app\/Dockerfile in the sandbox/);
    r = await check(target('gone:v1'));
    assert.match(r.message, /^No image named gone:v1 yet/);
  });
  it('BuildKit history lines are understood too', async () => {
    const bk = image({
      name: 'bk-builder:v1', sizeBytes: 868_000_000, layers: ['debian-rootfs', 'go-certs', 'go-git', 'go-gcc', 'go-golang', 'go-mkdir', 'go-workdir', 'b-workdir', 'b-copy', 'b-run'],
      history: [...golang.history.map((h): [string, number] => [h.createdBy, h.emptyLayer ? -1 : h.sizeBytes]),
        ['WORKDIR /src', 0], ['COPY welcome.go . # buildkit', 160], ['RUN /bin/sh -c CGO_ENABLED=0 go build     -o /out/welcome welcome.go # buildkit', 1_812_000]],
    });
    const r = await check(target('bk-builder:v1'), { images: [...ALL, bk] });
    assert.equal(r.status, 'pass', r.message);
  });
  it('without the base image, only the tail is compared, and the message says so', async () => {
    const r = await check(target('welcome-builder:v1'), { images: [builderStage, optimized] });
    assert.equal(r.status, 'pass', r.message);
    assert.match(r.message, /only its last build steps were compared/);
  });
});

describe('container checks', () => {
  it('state', async () => {
    assert.equal((await check(spec({ kind: 'container.state', container: 'web', state: 'running' }))).status, 'pass');
    assert.equal((await check(spec({ kind: 'container.state', container: 'job', state: 'exited', exitCode: 0 }))).status, 'pass');
    let r = await check(spec({ kind: 'container.state', container: 'crashed', state: 'exited', exitCode: 0 }));
    assert.equal(r.status, 'fail');
    assert.equal(r.message, 'crashed exited with code 2; this step expects exited with code 0 — see what went wrong with `docker logs crashed`.');
    r = await check(spec({ kind: 'container.state', container: 'job', state: 'running' }));
    assert.equal(r.status, 'fail');
    r = await check(spec({ kind: 'container.state', container: 'ghost', state: 'running' }));
    assert.equal(r.message, 'No container named ghost yet — run the `docker run` block above.');
  });
  it('port', async () => {
    assert.equal((await check(spec({ kind: 'container.port', container: 'web', port: 8080 }))).status, 'pass');
    assert.equal((await check(spec({ kind: 'container.port', container: 'web', port: 8080, hostPort: 80 }))).status, 'pass');
    const r = await check(spec({ kind: 'container.port', container: 'web', port: 8080, hostPort: 8080 }));
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, '80->8080/tcp');
    assert.match(r.message, /-p 8080:8080/);
    assert.match((await check(spec({ kind: 'container.port', container: 'job', port: 8080 }))).message, /only published while it runs/);
    assert.match((await check(spec({ kind: 'container.port', container: 'ghost', port: 1 }))).message, /^No container named ghost/);
  });
  it('logs', async () => {
    assert.equal((await check(spec({ kind: 'container.logs', container: 'web', contains: 'Welcome to the lab!' }))).status, 'pass');
    const r = await check(spec({ kind: 'container.logs', container: 'web', contains: 'Goodbye' }));
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, 'last line “Welcome to the lab!”');
    assert.match((await check(spec({ kind: 'container.logs', container: 'ghost', contains: 'x' }))).message, /^No container named ghost/);
  });
  it('gone', async () => {
    assert.equal((await check(spec({ kind: 'container.gone', container: 'ghost' }))).status, 'pass');
    const r = await check(spec({ kind: 'container.gone', container: 'job' }));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /docker rm -f job/);
  });
});

describe('file checks', () => {
  it('exists, relative to the workdir or absolute', async () => {
    assert.equal((await check(spec({ kind: 'file.exists', path: 'welcome.go', exists: true }))).status, 'pass');
    assert.equal((await check(spec({ kind: 'file.exists', path: `${WORKDIR}/Dockerfile`, exists: true }))).status, 'pass');
    const r = await check(spec({ kind: 'file.exists', path: 'hello/app.go', exists: true }));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /^There is no hello\/app\.go yet/);
    assert.equal((await check(spec({ kind: 'file.exists', path: 'hello/app.go', exists: false }))).status, 'pass');
  });
  it('contains: a regular expression, multiline', async () => {
    let r = await check(spec({ kind: 'file.contains', path: 'Dockerfile', pattern: '^FROM scratch$' }));
    assert.equal(r.status, 'pass');
    assert.equal(r.actual, 'matches at line 8');
    r = await check(spec({ kind: 'file.contains', path: 'Dockerfile', pattern: '/out\\/welcome \\/welcome/' }));
    assert.equal(r.status, 'pass', '/re/ is the regex between the slashes');
    r = await check(spec({ kind: 'file.contains', path: 'Dockerfile', pattern: '/welcome \\/welcome/g' }));
    assert.equal(r.status, 'fail', 'g is no allowed flag, so the text as written (slashes and g included) is looked for');
    r = await check(spec({ kind: 'file.contains', path: 'Dockerfile', pattern: '/out/welcome /welcome' }));
    assert.equal(r.status, 'pass');
    r = await check(spec({ kind: 'file.contains', path: 'Dockerfile', pattern: 'FROM alpine' }));
    assert.equal(r.status, 'fail');
    assert.match(r.message, /^Dockerfile \(10 lines\) has nothing matching `FROM alpine`/);
    r = await check(spec({ kind: 'file.contains', path: 'missing.txt', pattern: 'x' }));
    assert.match(r.message, /^There is no missing\.txt yet/);
    r = await check(spec({ kind: 'file.contains', path: 'src', pattern: 'x' }));
    assert.match(r.message, /^src is a folder, not a file/);
  });
  it('matches: "/re/flags" is that regex with those flags (i, m, s, u), as the lab parser validated it', async () => {
    const file = (pattern: string) => check(spec({ kind: 'file.contains', path: 'Dockerfile', pattern }));
    assert.equal((await file('/^from scratch$/im')).status, 'pass');
    assert.equal((await file('/^from scratch$/m')).status, 'fail', 'no i: case matters');
    assert.equal((await file('/^FROM scratch$/i')).status, 'fail', 'no m: ^ and $ are the ends of the file');
    assert.equal((await file('/build ..\\s+-o/s')).status, 'pass', 's: a dot matches the newline of the continuation line');
    assert.equal((await file('/build ..\\s+-o/')).status, 'fail', 'no s: a dot stops at the newline');
    // From the lab text to the verdict: what labs:check accepted is what the sandbox is matched with.
    const [parsed] = parseChecks('file: Dockerfile\nmatches: "/^copy --from=build/im"\n', 1).checks;
    assert.equal((await check({ ...parsed!, id: 'c1' })).status, 'pass');
    const out = await check(spec({ kind: 'command', run: 'docker run --rm welcome-optimized:v1', stdoutMatches: '/^welcome TO the lab!$/im' }), {
      setup: (ctx) => ctx.sandbox.commands.set('docker run --rm welcome-optimized:v1', { exitCode: 0, stdout: 'Welcome to the lab!\n', stderr: '', timedOut: false }),
    });
    assert.equal(out.status, 'pass', out.message);
  });
  it('a pattern that is not a valid regular expression is an author error, not a learner failure', async () => {
    const r = await check(spec({ kind: 'file.contains', path: 'Dockerfile', pattern: 'FROM (scratch' }));
    assert.equal(r.status, 'fail');
    assert.equal(r.problem, 'author');
    assert.match(r.message, /^This check's pattern `FROM \(scratch` is not a valid regular expression \(.*\)\. Lab author: fix it at line 10 of lab\.md\.$/);
  });
});

describe('command', () => {
  const ok = (stdout: string, exitCode = 0) => ({ exitCode, stdout, stderr: '', timedOut: false });
  const setup = (ctx: ReturnType<typeof fakeContext>) => {
    ctx.sandbox.commands.set('docker run --rm welcome-optimized:v1', ok('Welcome to the lab!\n'));
    ctx.sandbox.commands.set('docker run --rm broken:v1', { exitCode: 125, stdout: '', stderr: 'docker: Error response from daemon: No such image: broken:v1.\n', timedOut: false });
    ctx.sandbox.commands.set('sleep 100', 'hang');
  };
  it('passes on exit code and output, runs in the workdir with bash', async () => {
    const engine = fakeEngine();
    const ctx = fakeContext(engine);
    setup(ctx);
    const r = await evaluateCheck(spec({ kind: 'command', run: 'docker run --rm welcome-optimized:v1', stdoutContains: 'Welcome' }), ctx);
    assert.equal(r.status, 'pass', r.message);
    assert.deepEqual(ctx.sandbox.execs[0], cleanShellArgv(WORKDIR, 'docker run --rm welcome-optimized:v1'));
  });
  it('fails on exit code, output and pattern; invalid pattern is an author error', async () => {
    let r = await check(spec({ kind: 'command', run: 'docker run --rm broken:v1' }), { setup });
    assert.equal(r.status, 'fail');
    assert.equal(r.message, '`docker run --rm broken:v1` exited with code 125 (“docker: Error response from daemon: No such image: broken:v1.”); this step expects exit code 0.');
    r = await check(spec({ kind: 'command', run: 'docker run --rm welcome-optimized:v1', stdoutContains: 'Goodbye' }), { setup });
    assert.equal(r.status, 'fail');
    assert.equal(r.actual, 'printed “Welcome to the lab!”');
    r = await check(spec({ kind: 'command', run: 'docker run --rm welcome-optimized:v1', stdoutMatches: '^Welcome to the \\w+!$' }), { setup });
    assert.equal(r.status, 'pass');
    r = await check(spec({ kind: 'command', run: 'docker run --rm welcome-optimized:v1', stdoutMatches: '[' }), { setup });
    assert.equal(r.problem, 'author');
    r = await check(spec({ kind: 'command', run: 'docker run --rm broken:v1', exitCode: 125 }), { setup });
    assert.equal(r.status, 'pass');
  });
  it('a command that hangs is stopped at the time limit with a message', async () => {
    const r = await check(spec({ kind: 'command', run: 'sleep 100' }), { setup, timeoutMs: 100 });
    assert.equal(r.status, 'fail');
    assert.equal(r.problem, 'timeout');
    assert.match(r.message, /still running after 0\.09 s and was stopped/);
  });
});

describe('time limits, engine errors, and batches', () => {
  const kinds: CheckSpec[] = [
    spec({ kind: 'image.exists', image: 'welcome:v1', exists: true }),
    spec({ kind: 'image.size', image: 'welcome:v1', maxBytes: 1 }),
    spec({ kind: 'image.layers', image: 'welcome:v1', max: 1 }),
    spec({ kind: 'image.base', image: 'welcome:v1', base: 'scratch', shares: true }),
    spec({ kind: 'image.config', image: 'welcome:v1', field: 'cmd', equals: [] }),
    spec({ kind: 'image.path', image: 'welcome:v1', path: '/x', exists: true }),
    spec({ kind: 'image.target', image: 'welcome:v1', stage: 'build', dockerfile: 'Dockerfile' }),
    spec({ kind: 'container.state', container: 'web', state: 'running' }),
    spec({ kind: 'container.port', container: 'web', port: 80 }),
    spec({ kind: 'container.logs', container: 'web', contains: 'x' }),
    spec({ kind: 'container.gone', container: 'web' }),
  ];
  it('a hung engine makes every engine check fail with "timed out after N s", without blocking', async () => {
    const engine = fakeEngine(ALL);
    engine.hang = new Promise<never>(() => {});
    const ctx = fakeContext(engine);
    const t0 = Date.now();
    const results = await evaluateChecks(kinds.map((k, i) => ({ ...k, id: `k${i}` })), ctx, { timeoutMs: 80 });
    assert.ok(Date.now() - t0 < 1000);
    for (const r of results) {
      assert.equal(r.status, 'fail');
      assert.equal(r.problem, 'timeout');
      assert.match(r.message, /^The check timed out after 0\.08 s/);
    }
    assert.deepEqual(results.map((r) => r.id), kinds.map((_, i) => `k${i}`));
  });
  it('the timeout runs on the context\'s timers: a fake clock times a hung engine out without waiting', { timeout: 5_000 }, async () => {
    const engine = fakeEngine(ALL);
    engine.hang = new Promise<never>(() => {});
    const timers = createFakeTimers(1_000);
    const ctx = { ...fakeContext(engine), now: () => timers.now(), timers };
    const pending = evaluateCheck(spec({ kind: 'image.size', image: 'welcome:v1', maxBytes: 1 }), ctx, { timeoutMs: 600_000 });
    await new Promise((r) => setImmediate(r));
    timers.advance(600_000);
    const r = await pending;
    assert.equal(r.problem, 'timeout');
    assert.match(r.message, /^The check timed out after 600 s/);
    assert.equal(r.durationMs, 600_000);
  });
  it('an engine error is a fail with problem "engine", never a throw', async () => {
    const engine = fakeEngine(ALL);
    engine.fail = new Error('connect ENOENT /run/sandbox/docker.sock');
    const results = await evaluateChecks(kinds, fakeContext(engine));
    for (const r of results) {
      assert.equal(r.problem, 'engine');
      assert.match(r.message, /^Couldn't ask the sandbox \(connect ENOENT/);
    }
  });
  it('a batch looks each image up once', async () => {
    const engine = fakeEngine(ALL);
    const ctx = fakeContext(engine);
    ctx.sandbox.files.set(`${WORKDIR}/Dockerfile`, MULTI_STAGE_DOCKERFILE);
    const results = await evaluateChecks(kinds.slice(0, 7), ctx);
    assert.equal(results.length, 7);
    assert.equal(engine.calls.filter((c) => c === 'image welcome:v1').length, 1);
    assert.equal(engine.calls.filter((c) => c === 'imageTags').length, 1);
  });
});
