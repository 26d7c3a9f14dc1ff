// The image checks against REAL images built in a REAL sandbox (Docker-in-Docker through the sandbox driver).
// Needs the host engine and the sandbox image (`npm run setup`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDockerSandboxDriver, DEFAULT_LIMITS, type SandboxDriver, type SandboxRef } from '../../sandbox/driver/index.ts';
import { requireEngine } from '../../sandbox/driver/engine-gate.test-support.ts';
import { type CheckContext, evaluateChecks } from './evaluate.ts';
import type { CheckResult, CheckSpec } from './types.ts';
import { createCheckWatcher } from './watcher.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

// No engine fails the file (run sandbox/host/setup.sh); only LABLAB_SKIP_ENGINE_TESTS=1 skips it.
const skip = await requireEngine();

const MULTI = fs.readFileSync(path.join(ROOT, 'labs/04-build-target/Dockerfile'), 'utf8');
const NORMAL = fs.readFileSync(path.join(ROOT, 'labs/01-normal-build/Dockerfile'), 'utf8');
const MAIN_GO = fs.readFileSync(path.join(ROOT, 'labs/04-build-target/main.go'), 'utf8');

let n = 0;
type SpecInput = CheckSpec extends infer S ? (S extends CheckSpec ? Omit<S, 'id' | 'line'> : never) : never;
const c = (s: SpecInput): CheckSpec => ({ id: `it${++n}`, line: n, ...s }) as CheckSpec;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

describe('checks against a real sandbox', { skip, timeout: 15 * 60_000 }, () => {
  let driver: SandboxDriver;
  let ref: SandboxRef;
  let ctx: CheckContext;
  let assets: string;
  const dataDir = process.env.LABLAB_TEST_DATA_DIR ?? path.join(os.tmpdir(), 'lablab-checks-it');
  const sessionId = `checks-it-${process.pid}`;

  const sh = async (script: string, timeoutMs = 300_000): Promise<string> => {
    const r = await driver.exec(ref, ['bash', '-lc', script], { timeoutMs });
    assert.equal(r.exitCode, 0, `${script}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    assets = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-checks-assets-'));
    fs.writeFileSync(path.join(assets, 'main.go'), MAIN_GO);
    fs.writeFileSync(path.join(assets, 'Dockerfile'), MULTI);
    fs.writeFileSync(path.join(assets, 'Dockerfile.normal'), NORMAL);
    driver = createDockerSandboxDriver({ dataDir, ownerId: 'checks-it', log: () => {} });
    const t0 = Date.now();
    ref = await driver.create({
      sessionId, node: 1, images: ['golang:1.19', 'busybox'], assetsDir: assets,
      limits: DEFAULT_LIMITS, expiresAt: Date.now() + 30 * 60_000,
    });
    await driver.waitReady(ref, { timeoutMs: 120_000 });
    console.log(`# sandbox ready in ${Date.now() - t0} ms`);
    ctx = {
      engine: driver.engine(ref),
      exec: (cmd, o) => driver.exec(ref, cmd, { timeoutMs: o?.timeoutMs }),
      workdir: ref.workdir,
      now: () => Date.now(),
    };
    const t1 = Date.now();
    // The learner's builds: one stage FROM golang; the multi-stage file in full; and stopped at its builder.
    await sh('docker build -q -t welcome:v1 -f Dockerfile.normal . && docker build -q -t welcome-final:v1 . && docker build -q --target builder -t welcome-dev:v1 .');
    await sh('docker run --name job welcome-final:v1 && docker run -d --name web -p 8080:80 busybox httpd -f -p 80 && docker run --name crashed busybox sh -c "echo oops; exit 3" || true');
    console.log(`# builds and runs in the sandbox took ${Date.now() - t1} ms`);
  });

  after(async () => {
    if (driver) {
      if (ref) await driver.destroy(ref).catch((e) => console.log('# destroy failed', e));
      await driver.removeSessionNetwork(sessionId).catch(() => {});
      await driver.dispose();
    }
    if (assets) fs.rmSync(assets, { recursive: true, force: true });
  });

  async function verdicts(specs: CheckSpec[]): Promise<CheckResult[]> {
    const rs = await evaluateChecks(specs, ctx);
    for (const r of rs) console.log(`#   ${r.status.padEnd(4)} ${String(r.durationMs).padStart(4)} ms  ${r.message}`);
    return rs;
  }

  const expect = async (pairs: [CheckSpec, 'pass' | 'fail'][]) => {
    const rs = await verdicts(pairs.map(([s]) => s));
    rs.forEach((r, i) => {
      assert.equal(r.status, pairs[i]![1], r.message);
      assert.equal(r.problem, undefined, r.message);
    });
    return rs;
  };

  it('image exists, size (Docker units) and layers', async () => {
    const rs = await expect([
      [c({ kind: 'image.exists', image: 'welcome-final:v1', exists: true }), 'pass'],
      [c({ kind: 'image.exists', image: 'welcome-nope:v1', exists: true }), 'fail'],
      [c({ kind: 'image.size', image: 'welcome-final:v1', maxBytes: 20_000_000 }), 'pass'],
      [c({ kind: 'image.size', image: 'welcome:v1', maxBytes: 20_000_000 }), 'fail'],
      [c({ kind: 'image.size', image: 'welcome-dev:v1', minBytes: 500_000_000 }), 'pass'],
      [c({ kind: 'image.layers', image: 'welcome-final:v1', max: 2 }), 'pass'],
      [c({ kind: 'image.layers', image: 'welcome:v1', max: 2 }), 'fail'],
    ]);
    assert.match(rs[1]!.message, /^No image named welcome-nope:v1 yet/);
    // What `docker images` prints, in our spacing.
    const shown = (await sh("docker images --format '{{.Size}}' welcome:v1")).trim();
    assert.equal(rs[3]!.actual!.replace(' ', ''), shown);
  });

  it('from scratch, and built on golang:1.19 or not', async () => {
    await expect([
      [c({ kind: 'image.base', image: 'welcome-final:v1', base: 'scratch', shares: true }), 'pass'],
      [c({ kind: 'image.base', image: 'welcome:v1', base: 'scratch', shares: true }), 'fail'],
      [c({ kind: 'image.base', image: 'welcome-dev:v1', base: 'scratch', shares: false }), 'pass'],
      [c({ kind: 'image.base', image: 'welcome:v1', base: 'golang:1.19', shares: true }), 'pass'],
      [c({ kind: 'image.base', image: 'welcome-final:v1', base: 'golang:1.19', shares: true }), 'fail'],
      [c({ kind: 'image.base', image: 'welcome-final:v1', base: 'golang:1.19', shares: false }), 'pass'],
    ]);
  });

  it('config and paths in the image (a FROM scratch image too)', async () => {
    await expect([
      [c({ kind: 'image.config', image: 'welcome-final:v1', field: 'entrypoint', equals: ['./welcome'] }), 'pass'],
      [c({ kind: 'image.config', image: 'welcome-final:v1', field: 'workdir', equals: '/app' }), 'pass'],
      [c({ kind: 'image.config', image: 'welcome:v1', field: 'env', contains: 'GOPATH=/go' }), 'pass'],
      [c({ kind: 'image.config', image: 'welcome:v1', field: 'cmd', equals: ['./app'] }), 'fail'],
      [c({ kind: 'image.path', image: 'welcome-final:v1', path: '/app/welcome', exists: true }), 'pass'],
      [c({ kind: 'image.path', image: 'welcome-final:v1', path: '/src/main.go', exists: false }), 'pass'],
      [c({ kind: 'image.path', image: 'welcome-dev:v1', path: '/src/main.go', exists: true }), 'pass'],
      [c({ kind: 'image.path', image: 'welcome-dev:v1', path: '/src/main.go', exists: false }), 'fail'],
    ]);
  });

  it('--target: the builder stage passes; the full build and the one-stage build do not', async () => {
    const rs = await expect([
      [c({ kind: 'image.target', image: 'welcome-dev:v1', stage: 'builder', dockerfile: 'Dockerfile' }), 'pass'],
      [c({ kind: 'image.target', image: 'welcome-final:v1', stage: 'builder', dockerfile: 'Dockerfile' }), 'fail'],
      [c({ kind: 'image.target', image: 'welcome:v1', stage: 'builder', dockerfile: 'Dockerfile' }), 'fail'],
    ]);
    assert.match(rs[1]!.message, /is the final stage/);
    assert.match(rs[2]!.message, /is not the `builder` stage/);
  });

  it('containers, files and commands', async () => {
    await expect([
      [c({ kind: 'container.state', container: 'job', state: 'exited', exitCode: 0 }), 'pass'],
      [c({ kind: 'container.state', container: 'crashed', state: 'exited', exitCode: 0 }), 'fail'],
      [c({ kind: 'container.state', container: 'web', state: 'running' }), 'pass'],
      [c({ kind: 'container.port', container: 'web', port: 80, hostPort: 8080 }), 'pass'],
      [c({ kind: 'container.logs', container: 'job', contains: 'Welcome aboard' }), 'pass'],
      [c({ kind: 'container.gone', container: 'job' }), 'fail'],
      [c({ kind: 'container.gone', container: 'never-ran' }), 'pass'],
      [c({ kind: 'file.exists', path: 'main.go', exists: true }), 'pass'],
      [c({ kind: 'file.contains', path: 'Dockerfile', pattern: '^FROM golang:1\\.19 AS builder' }), 'pass'],
      [c({ kind: 'file.contains', path: 'Dockerfile', pattern: '^FROM alpine' }), 'fail'],
      [c({ kind: 'command', run: 'docker run --rm welcome-final:v1', stdoutContains: 'Welcome aboard' }), 'pass'],
      [c({ kind: 'command', run: 'docker run --rm welcome-dev:v1 go version', stdoutMatches: 'go1\\.19' }), 'pass'],
      [c({ kind: 'command', run: 'docker run --rm --entrypoint ls welcome-final:v1 /' }), 'fail'],
    ]);
  });

  it('a hung command times out with a message', async () => {
    const [r] = await evaluateChecks([c({ kind: 'command', run: 'sleep 30' })], ctx, { timeoutMs: 2_500 });
    console.log(`#   ${r!.status} ${r!.durationMs} ms ${r!.message}`);
    assert.equal(r!.status, 'fail');
    assert.equal(r!.problem, 'timeout');
  });

  it('the watcher ticks a pending check by itself after a build (measured)', async () => {
    const pending = [c({ kind: 'image.exists', image: 'welcome-late:v1', exists: true }), c({ kind: 'image.size', image: 'welcome-late:v1', maxBytes: 20_000_000 })];
    const lat: number[] = [];
    for (let round = 0; round < 5; round++) {
      await sh('docker rmi -f welcome-late:v1 >/dev/null 2>&1; true');
      let doneAt = 0;
      let last: CheckResult[] = [];
      let passed!: (rs: CheckResult[]) => void;
      const got = new Promise<CheckResult[]>((r) => (passed = r));
      const w = createCheckWatcher({
        ctx, pendingChecks: () => pending,
        onResults: (rs) => {
          last = rs;
          if (rs.length === pending.length && rs.every((r) => r.status === 'pass')) {
            doneAt = Date.now();
            passed(rs);
          }
        },
      });
      try {
        await new Promise((r) => setTimeout(r, 200)); // the event stream is connected
        const r = await driver.exec(ref, ['bash', '-lc', 'docker build -q -t welcome-late:v1 . >/dev/null && date +%s%3N']);
        assert.equal(r.exitCode, 0, r.stderr);
        const builtAt = Number(r.stdout.trim());
        // Nobody pokes the watcher here: only the inner engine's events can bring the pass.
        const rs = await Promise.race([
          got,
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(
            `round ${round}: the watcher did not pass ${pending.map((p) => p.id).join(', ')} within 10 s of the build; last results: ${
              last.map((x) => `${x.id} ${x.status} (${x.message})`).join('; ') || 'none'}`)), 10_000)),
        ]);
        assert.deepEqual(rs.map((x) => [x.id, x.status]), pending.map((p) => [p.id, 'pass']));
        lat.push(doneAt - builtAt);
      } finally {
        w.dispose();
      }
    }
    console.log(`# build finished -> check passed by itself: p50 ${pct(lat, 50)} ms (samples ${lat.join(', ')})`);
  });

  it('one step\'s checks evaluate fast (measured, not asserted)', async () => {
    const steps: Record<string, CheckSpec[]> = {
      'final image (exists, size, from scratch)': [
        c({ kind: 'image.exists', image: 'welcome-final:v1', exists: true }),
        c({ kind: 'image.size', image: 'welcome-final:v1', maxBytes: 20_000_000 }),
        c({ kind: 'image.base', image: 'welcome-final:v1', base: 'scratch', shares: true }),
      ],
      'builder stage (target, size)': [
        c({ kind: 'image.target', image: 'welcome-dev:v1', stage: 'builder', dockerfile: 'Dockerfile' }),
        c({ kind: 'image.size', image: 'welcome-dev:v1', minBytes: 500_000_000 }),
      ],
      'look inside (paths)': [
        c({ kind: 'image.path', image: 'welcome-dev:v1', path: '/src/main.go', exists: true }),
        c({ kind: 'image.path', image: 'welcome-final:v1', path: '/src/main.go', exists: false }),
      ],
      'files': [
        c({ kind: 'file.exists', path: 'main.go', exists: true }),
        c({ kind: 'file.contains', path: 'Dockerfile', pattern: 'COPY --from=builder' }),
      ],
    };
    for (const [name, specs] of Object.entries(steps)) {
      const ms: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t = performance.now();
        const rs = await evaluateChecks(specs, ctx);
        ms.push(performance.now() - t);
        assert.ok(rs.every((r) => r.status === 'pass'), rs.map((r) => r.message).join('\n'));
      }
      console.log(`# step "${name}": p50 ${pct(ms, 50).toFixed(1)} ms, p90 ${pct(ms, 90).toFixed(1)} ms`);
    }
  });
});
