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
});

describe('step set-up and Save file', () => {
  it('runs each set-up script in a clean shell in the workdir, and stops at the first that fails', async () => {
    const ctx = fakeContext(fakeEngine());
    ctx.sandbox.commands.set('mkdir -p /root/k', res(0));
    ctx.sandbox.commands.set('false', res(3, '', 'nope\n'));
    assert.deepEqual(await runStepSetup(ctx, ['mkdir -p /root/k']), { ok: true });
    assert.deepEqual(ctx.sandbox.execs.at(-1), cleanShellArgv(WORKDIR, 'mkdir -p /root/k'));
    const before = ctx.sandbox.execs.length;
    const r = await runStepSetup(ctx, ['false', 'mkdir -p /root/k']);
    assert.deepEqual(r, { ok: false, message: "the step's set-up script 1 exited with code 3 (nope)" });
    assert.equal(ctx.sandbox.execs.length, before + 1);
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
