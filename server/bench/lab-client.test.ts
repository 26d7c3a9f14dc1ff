import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clickInput } from './lab-client.ts';

test('a click types the block as xterm pastes it (CR line ends, bracketed) and then presses Enter', () => {
  assert.deepEqual(clickInput('cat > f <<EOF\nhi\r\nEOF'), ['\x1b[200~cat > f <<EOF\rhi\rEOF\x1b[201~', '\r']);
});
