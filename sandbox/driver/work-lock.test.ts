import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dataDirPresence, holdLock, lockHeld } from './work-lock.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'wlock-'));

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never: ${what}`);
}

/** A second process that holds `file` through holdLock and says so; killed -9 by the test. */
function holderProcess(code: string): Promise<import('node:child_process').ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && resolve(child));
    child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
}

test('a held lock is seen held, a released one free; nonblock fails while another holds it', async () => {
  const file = path.join(tmp(), 'k');
  assert.equal(await lockHeld(file), false, 'a missing file is nobody\'s');
  const a = await holdLock(file, { wait: true });
  assert.ok(a);
  assert.equal(await lockHeld(file), true);
  assert.equal(await holdLock(file, { wait: false }), null);
  const waiting = holdLock(file, { wait: true });
  await a.release();
  const b = await waiting;
  assert.ok(b, 'the waiter gets it once released');
  await b.release();
  assert.equal(await lockHeld(file), false);
});

test('kill -9 of the holding process frees its lock', async () => {
  const file = path.join(tmp(), 'k');
  const child = await holderProcess(`import('./sandbox/driver/work-lock.ts').then(async (m) => { await m.holdLock(${JSON.stringify(file)}, { wait: true }); console.log('ready'); setInterval(() => {}, 1000); })`);
  assert.equal(await lockHeld(file), true);
  child.kill('SIGKILL');
  await until('the lock is free after kill -9', async () => !(await lockHeld(file)));
});

test('presence: another live process is seen; once it is killed -9 it is not, and its entry goes', async () => {
  const dir = tmp();
  const me = dataDirPresence(dir);
  await me.join();
  assert.equal(await me.othersPresent(), false, 'alone');
  const child = await holderProcess(`import('./sandbox/driver/work-lock.ts').then(async (m) => { await m.dataDirPresence(${JSON.stringify(dir)}).join(); console.log('ready'); setInterval(() => {}, 1000); })`);
  assert.equal(await me.othersPresent(), true);
  child.kill('SIGKILL');
  await until('the dead process is no longer present', async () => !(await me.othersPresent()));
  assert.equal(fs.readdirSync(path.join(dir, 'procs')).length, 1, 'only our own entry is left');
  await me.leave();
  assert.deepEqual(fs.readdirSync(path.join(dir, 'procs')), []);
});
