import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptCameBack } from './manager.ts';

test('a prompt coming back is seen in the output that carries it', () => {
  // The sandbox shell after a Ctrl-C: readline redraws the marked prompt and erases to the end.
  assert.ok(promptCameBack('^C\r\n\x1b[?2004h\x1b]133;A\x07[node1] /root $ \x1b[K'));
  assert.ok(promptCameBack('\x1b[?2004h\x1b]133;A\x07[node1] /root $ '));
  assert.ok(promptCameBack('root@box:~# '), 'an unmarked root prompt');
  assert.ok(promptCameBack('$ \x1b[K'));
  assert.ok(!promptCameBack('Step 4/8 : RUN go build\r\n'));
  assert.ok(!promptCameBack('\x1b]133;C\x07'), 'a command starting is not a prompt');
  assert.ok(!promptCameBack('costs $5 '.slice(0, -1)));
});
