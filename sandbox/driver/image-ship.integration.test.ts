// Ships an image from the host engine to a second engine started for this test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Docker from 'dockerode';
import { requireEngine } from './engine-gate.test-support.ts';
import { startSecondEngine, type SecondEngine } from './second-engine.test-support.ts';
import { shipImages, SHIP_TUNING, type ShipProgress } from './image-ship.ts';
import { SandboxError } from './errors.ts';

const skip = await requireEngine();
const host = new Docker({ socketPath: '/var/run/docker.sock' });
const name = `e2-${randomBytes(3).toString('hex')}`;
let engine2: SecondEngine | undefined;

before(async () => {
  if (skip) return;
  engine2 = await startSecondEngine({ dir: path.join(process.cwd(), '.data', 'test-engines', name), name });
});
after(async () => {
  await engine2?.stop();
});

test('an image the second engine lacks is shipped from the first, with progress; a present one is not', { skip }, async () => {
  const to = engine2!.docker;
  SHIP_TUNING.progressEveryBytes = 256 * 1024;
  const seen: ShipProgress[] = [];
  const shipped = await shipImages({ from: host, to, images: ['busybox:latest'], onProgress: (p) => seen.push(p), targetName: name });
  assert.deepEqual(shipped, ['busybox:latest']);
  assert.ok((await to.getImage('busybox:latest').inspect()).Id, 'the second engine lists busybox');
  assert.ok(seen.length >= 2, `progress was reported along the way (${seen.length} reports)`);
  assert.equal(seen.at(-1)?.done, true);
  assert.ok(seen.some((p) => !p.done && p.sentBytes > 0 && p.sentBytes < p.totalBytes * 2));
  assert.deepEqual(await shipImages({ from: host, to, images: ['busybox:latest'], targetName: name }), [], 'already there: nothing shipped');
});

test('an image the source lacks fails with a message naming it', { skip }, async () => {
  await assert.rejects(
    shipImages({ from: host, to: engine2!.docker, images: ['lablab/no-such-image:nope'], targetName: name }),
    (e: unknown) => e instanceof SandboxError && /lablab\/no-such-image:nope/.test(e.message) && /does not have it/.test(e.message),
  );
});
