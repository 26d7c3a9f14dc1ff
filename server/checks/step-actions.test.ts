// Imported labs' extras on the check side, against the fake sandbox: a command check's FAIL: reason
// and live hint, a step's set-up scripts, and a Save-file write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCheck } from './evaluate.ts';
import { cleanShellArgv } from './clean-shell.ts';
import { runStepSetup, saveBlockFile } from './step-actions.ts';
import { WORKDIR, fakeContext, fakeEngine } from './fakes.test-support.ts';

const res = (exitCode: number, stdout = '', stderr = '') => ({ exitCode, stdout, stderr, timedOut: false });

describe('command checks from other formats', () => {
  it('fail_line: the reason is the line the script printed after FAIL:', async () => {
    const ctx = fakeContext(fakeEngine());
    ctx.sandbox.commands.set('./check', res(1, 'looking…\nFAIL: There is no /root/first.txt yet\n'));
    const r = await evaluateCheck({ id: 'c1', line: 1, kind: 'command', run: './check', exitCode: 0, failLine: 'FAIL:' }, ctx, { timeoutMs: 5000 });
    assert.equal(r.status, 'fail');
    assert.equal(r.message, 'There is no /root/first.txt yet');
  });
  it('hint_run: what the hint script prints follows the reason; a silent hint adds nothing', async () => {
    const ctx = fakeContext(fakeEngine());
    ctx.sandbox.commands.set('./task', res(1, 'No running containers\n'));
    ctx.sandbox.commands.set('./hint', res(0, 'A container exists\nbut is not running.\n'));
    const spec = { id: 'c1', line: 1, kind: 'command' as const, run: './task', exitCode: 0, hintRun: './hint' };
    let r = await evaluateCheck(spec, ctx, { timeoutMs: 5000 });
    assert.match(r.message, /exited with code 1 \(“No running containers”\); this step expects exit code 0 — A container exists but is not running\.$/);
    ctx.sandbox.commands.set('./hint', res(0, ''));
    r = await evaluateCheck(spec, ctx, { timeoutMs: 5000 });
    assert.match(r.message, /this step expects exit code 0\.$/);
    ctx.sandbox.commands.set('./task', res(0));
    assert.equal((await evaluateCheck(spec, ctx, { timeoutMs: 5000 })).status, 'pass');
  });
  it('node: the command and its hint run in the sandbox of the node the check names; a session without it fails clearly', async () => {
    const node1 = fakeContext(fakeEngine());
    const node2 = fakeContext(fakeEngine());
    node1.sandbox.commands.set('./check', res(1, 'FAIL: not on this host\n'));
    node2.sandbox.commands.set('./check', res(0));
    const ctx = { ...node1, onNode: (n: number) => (n === 1 ? node1 : n === 2 ? node2 : undefined) };
    const spec = { id: 'c1', line: 1, kind: 'command' as const, run: './check', exitCode: 0, failLine: 'FAIL:', hintRun: './hint', node: 2 };
    assert.equal((await evaluateCheck(spec, ctx, { timeoutMs: 5000 })).status, 'pass');
    assert.deepEqual(node2.sandbox.execs, [cleanShellArgv(WORKDIR, './check')]);
    assert.deepEqual(node1.sandbox.execs, []);
    node2.sandbox.commands.set('./check', res(1, 'FAIL: no file on the web host\n'));
    node2.sandbox.commands.set('./hint', res(0, 'make it there\n'));
    assert.equal((await evaluateCheck(spec, ctx, { timeoutMs: 5000 })).message, 'no file on the web host — make it there');
    assert.deepEqual(node1.sandbox.execs, []);
    // Node 1 is the session's own context; a node it does not have is a failing check, never node 1's run.
    assert.equal((await evaluateCheck({ ...spec, node: 1 }, ctx, { timeoutMs: 5000 })).message, 'not on this host');
    const ran = node1.sandbox.execs.length;
    const r = await evaluateCheck({ ...spec, node: 3 }, ctx, { timeoutMs: 5000 });
    assert.equal(r.status, 'fail');
    assert.equal(r.message, 'This check runs on node3, which this session does not have.');
    assert.equal((await evaluateCheck(spec, node1, { timeoutMs: 5000 })).message, 'This check runs on node2, which this session does not have.');
    assert.equal(node1.sandbox.execs.length, ran);
  });
});

describe('step set-up and Save file', () => {
  it('runs each set-up script in a clean shell in the workdir, and stops at the first that fails', async () => {
    const ctx = fakeContext(fakeEngine());
    ctx.sandbox.commands.set('mkdir -p /root/k', res(0));
    ctx.sandbox.commands.set('false', res(3, '', 'nope\n'));
    const one = () => ctx;
    assert.deepEqual(await runStepSetup(one, [{ node: 1, script: 'mkdir -p /root/k' }]), { ok: true });
    assert.deepEqual(ctx.sandbox.execs.at(-1), cleanShellArgv(WORKDIR, 'mkdir -p /root/k'));
    const before = ctx.sandbox.execs.length;
    const r = await runStepSetup(one, [{ node: 1, script: 'false' }, { node: 1, script: 'mkdir -p /root/k' }]);
    assert.deepEqual(r, { ok: false, message: "the step's set-up script 1 exited with code 3 (nope)" });
    assert.equal(ctx.sandbox.execs.length, before + 1);
  });
  it('runs each script on the node it names, in order, and refuses a node the session does not have', async () => {
    const node1 = fakeContext(fakeEngine());
    const node2 = fakeContext(fakeEngine());
    node1.sandbox.commands.set('echo one', res(0));
    node2.sandbox.commands.set('echo two', res(0));
    node2.sandbox.commands.set('exit 4', res(4, '', 'web says no\n'));
    const on = (n: number) => (n === 1 ? node1 : n === 2 ? node2 : undefined);
    assert.deepEqual(await runStepSetup(on, [{ node: 2, script: 'echo two' }, { node: 1, script: 'echo one' }]), { ok: true });
    assert.deepEqual(node2.sandbox.execs, [cleanShellArgv(WORKDIR, 'echo two')]);
    assert.deepEqual(node1.sandbox.execs, [cleanShellArgv(WORKDIR, 'echo one')]);
    assert.deepEqual(await runStepSetup(on, [{ node: 2, script: 'exit 4' }]), { ok: false, message: "the step's set-up script 1 (node2) exited with code 4 (web says no)" });
    assert.deepEqual(await runStepSetup(on, [{ node: 1, script: 'echo one' }, { node: 3, script: 'echo three' }]), { ok: false, message: "the step's set-up script 2 is for node3, which this session does not have" });
  });
  it('writes a Save-file block under the workdir, never outside it', async () => {
    const ctx = fakeContext(fakeEngine());
    const execs: string[][] = [];
    const sink = { workdir: WORKDIR, exec: async (cmd: string[]) => (execs.push(cmd), res(0)) };
    assert.deepEqual(await saveBlockFile(sink, 'notes/today.txt', 'hi\n'), { ok: true });
    assert.deepEqual(execs[0]!.slice(-3), ['save', `${WORKDIR}/notes/today.txt`, 'hi\n']);
    assert.equal((await saveBlockFile(sink, '../etc/passwd', 'x')).ok, false);
    assert.equal(execs.length, 1);
    void ctx;
  });
});
