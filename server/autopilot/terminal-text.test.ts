import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripAnsi } from './ansi.ts';
import { renderScreen } from './screen.ts';
import { endsWithPrompt, withoutTrailingPrompt } from './prompt.ts';
import { parseStatus, pasteKeys, STATUS_PROBE } from './paste.ts';

test('stripAnsi removes colours, modes, OSC titles and stray control characters, keeping CR, LF and tab', () => {
  assert.equal(stripAnsi('\x1b[?2004h[node1] /root $ '), '[node1] /root $ ');
  assert.equal(stripAnsi('\x1b[01;34mdir\x1b[0m\tfile\r\n'), 'dir\tfile\r\n');
  assert.equal(stripAnsi('\x1b]0;title\x07ok\x1b]2;t\x1b\\!'), 'ok!');
  assert.equal(stripAnsi('a\x07b\x1b(Bc\x1b=d'), 'abcd');
});

test('renderScreen replays CR overwrites, backspace, erase-line and a readline redraw that moves up', () => {
  assert.deepEqual(renderScreen('50%\r100%\r\n'), ['100%', '']);
  assert.deepEqual(renderScreen('abc\b\bX\r\n'), ['aXc', '']);
  assert.deepEqual(renderScreen('long line\r\x1b[Kshort'), ['short']);
  // Readline echoing a two-line paste, then going back up to redraw it from the prompt.
  const raw = '[node1] /root $ cat <<X\r\nhi\r\nX\x1b[2A\r\x1b[J[node1] /root $ cat <<X\r\nhi\r\nX\r\nhi\r\n[node1] /root $ ';
  assert.deepEqual(renderScreen(raw), ['[node1] /root $ cat <<X', 'hi', 'X', 'hi', '[node1] /root $']);
  assert.deepEqual(renderScreen('abcdef', 4), ['abcd', 'ef']);
  assert.deepEqual(renderScreen('a\tb'), ['a       b']);
});

test('endsWithPrompt: the sandbox prompt, with any cwd, only at the very end', () => {
  assert.equal(endsWithPrompt('\x1b[?2004h[node1] /root $ '), true);
  assert.equal(endsWithPrompt('output\r\n[node2] /tmp/my dir $ '), true);
  assert.equal(endsWithPrompt('[node1] /root # '), true);
  assert.equal(endsWithPrompt('[node1] /root $ docker build .'), false, 'a typed command after the prompt');
  assert.equal(endsWithPrompt('[node1] /root $ \r\nStep 1/8'), false);
  assert.equal(endsWithPrompt('[node1] /root $'), false, 'a prompt ends with "$ "');
  assert.equal(endsWithPrompt('costs 5 $ '), false, 'a dollar at the end of output is not a prompt');
  assert.equal(endsWithPrompt('> '), false);
});

test('withoutTrailingPrompt keeps what the block printed and drops the prompt it ended on', () => {
  assert.equal(withoutTrailingPrompt('[node1] /root $ ls\r\na  b\r\n\x1b[?2004h[node1] /root $ '), '[node1] /root $ ls\na  b');
  assert.equal(withoutTrailingPrompt('\r\nno prompt yet'), 'no prompt yet');
});

test('pasteKeys types a block as xterm pastes it with bracketed paste on, then Enter', () => {
  assert.equal(pasteKeys('ls'), '\x1b[200~ls\x1b[201~\r');
  assert.equal(pasteKeys("cat > f <<'EOF'\n\tx\r\nEOF"), "\x1b[200~cat > f <<'EOF'\r\tx\rEOF\x1b[201~\r");
  assert.equal(pasteKeys('echo \x1b[201~rm -rf /'), '\x1b[200~echo rm -rf /\x1b[201~\r', 'a block cannot end the paste early');
});

test('the status probe answers with digits the probe\'s own echo does not contain', () => {
  assert.equal(parseStatus(stripAnsi(STATUS_PROBE)), null);
  assert.equal(parseStatus(' echo "AUTOPILOT_RC=$?"\r\nAUTOPILOT_RC=125\r\n'), 125);
});
