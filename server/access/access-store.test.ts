// One suite, two access stores: every rule here holds for SQLite and for PostgreSQL alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../sessions/postgres.test-support.ts';
import { openAccessStore } from './access-store.ts';

const kinds: { name: string; open(): Promise<{ target: string; done(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-access-'));
      return { target: path.join(dir, 'db.sqlite'), done: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await createTestDatabase();
      return { target: db.url, done: db.drop };
    },
  },
];

for (const kind of kinds) {
  if (process.env.LABLAB_ACCESS_STORES && !process.env.LABLAB_ACCESS_STORES.split(',').includes(kind.name)) continue;
  describe(`access store (${kind.name})`, () => {
    let target: string;
    let done: () => Promise<void>;
    before(async () => ({ target, done } = await kind.open()));
    after(() => done());

    test('a share link is found by its digest, survives a restart, and is gone once removed', async () => {
      let s = await openAccessStore(target);
      await s.addShare({ id: 'l1', sessionId: 'S1', mode: 'read-write', createdAt: 5 }, 'digest-1');
      await s.close();
      s = await openAccessStore(target);
      assert.deepEqual(await s.shareByHash('digest-1'), { id: 'l1', sessionId: 'S1', mode: 'read-write', createdAt: 5 });
      assert.equal(await s.shareByHash('digest-2'), undefined);
      assert.deepEqual((await s.shares('S1')).map((l) => l.id), ['l1']);
      assert.equal(await s.removeShare('S2', 'l1'), false, 'another session cannot remove it');
      assert.equal(await s.removeShare('S1', 'l1'), true);
      assert.equal(await s.shareByHash('digest-1'), undefined);
      await s.close();
    });

    test('an ssh token is taken once, only for its own session, only before it expires', async () => {
      const s = await openAccessStore(target);
      const other = await openAccessStore(target); // a second replica
      await s.addSshToken('A', 'tok-a', 1000);
      await s.addSshToken('A', 'tok-late', 100);
      assert.equal(await s.sshTokenCount('A', 50), 2);
      assert.equal(await s.takeSshToken('B', 'tok-a', 50), false, "session B cannot use A's token");
      const [first, second] = await Promise.all([s.takeSshToken('A', 'tok-a', 50), other.takeSshToken('A', 'tok-a', 50)]);
      assert.equal(Number(first) + Number(second), 1, 'exactly one of two simultaneous logins takes it');
      assert.equal(await s.takeSshToken('A', 'tok-a', 60), false, 'used');
      assert.equal(await s.takeSshToken('A', 'tok-late', 100), false, 'expired');
      assert.equal(await s.sshTokenCount('A', 100), 0);
      await s.close();
      await other.close();
    });

    test('keys are per session; forgetting a session removes its links, tokens and keys', async () => {
      const s = await openAccessStore(target);
      const key = (sid: string, fp: string) => ({ sessionId: sid, fingerprint: fp, publicKey: `ssh-ed25519 AAAA ${fp}`, comment: 'c', addedAt: 1 });
      await s.addSshKey(key('K1', 'SHA256:x'));
      await s.addSshKey(key('K1', 'SHA256:x')); // pasted twice: one key
      await s.addSshKey(key('K2', 'SHA256:y'));
      await s.addShare({ id: 'k1link', sessionId: 'K1', mode: 'read-only', createdAt: 1 }, 'dk1');
      await s.addSshToken('K1', 'tk1', 10_000);
      assert.deepEqual((await s.sshKeys('K1')).map((k) => k.fingerprint), ['SHA256:x']);
      assert.equal(await s.removeSshKey('K2', 'SHA256:x'), false);
      await s.forgetSession('K1');
      assert.deepEqual(await s.sshKeys('K1'), []);
      assert.equal(await s.shareByHash('dk1'), undefined);
      assert.equal(await s.takeSshToken('K1', 'tk1', 1), false);
      assert.equal((await s.sshKeys('K2')).length, 1);
      assert.equal(await s.forgetAllBut(['K3']), 1, 'K2 is not live: forgotten');
      assert.deepEqual(await s.sshKeys('K2'), []);
      await s.close();
    });
  });
}
