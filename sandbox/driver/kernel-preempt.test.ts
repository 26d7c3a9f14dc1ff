import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { kernelPreempt, preemptFromCmdline, preemptFromConfig, preemptFromDebugfs, preemptLine } from './kernel-preempt.ts';

const DEBIAN_CONFIG = 'CONFIG_PREEMPT_BUILD=y\n# CONFIG_PREEMPT_NONE is not set\nCONFIG_PREEMPT_VOLUNTARY=y\n# CONFIG_PREEMPT is not set\nCONFIG_PREEMPT_COUNT=y\nCONFIG_PREEMPT_DYNAMIC=y\nCONFIG_PREEMPT_NOTIFIERS=y\n';
const NONE_CONFIG = 'CONFIG_PREEMPT_NONE=y\n# CONFIG_PREEMPT_VOLUNTARY is not set\n# CONFIG_PREEMPT is not set\nCONFIG_PREEMPT_DYNAMIC=y\n';

test('the mode from the command line, debugfs and a build config', () => {
  assert.equal(preemptFromCmdline('BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro preempt=full quiet'), 'full');
  assert.equal(preemptFromCmdline('root=/dev/sda1 nopreempt=full'), undefined);
  assert.equal(preemptFromCmdline('preempt=bogus'), undefined);
  assert.equal(preemptFromDebugfs('none (voluntary) full lazy\n'), 'voluntary');
  assert.deepEqual(preemptFromConfig(DEBIAN_CONFIG), { mode: 'voluntary', dynamic: true });
  assert.deepEqual(preemptFromConfig(NONE_CONFIG), { mode: 'none', dynamic: true });
  // CONFIG_PREEMPT_COUNT, _BUILD, _NOTIFIERS are not CONFIG_PREEMPT.
  assert.deepEqual(preemptFromConfig('CONFIG_PREEMPT_COUNT=y\nCONFIG_PREEMPT=y\n'), { mode: 'full', dynamic: false });
  assert.equal(preemptFromConfig('CONFIG_PREEMPT_COUNT=y\n'), undefined);
});

test('the command line wins over the build default; a gzipped config is read; nothing readable is "unknown"', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-preempt-'));
  try {
    const f = (name: string, text: string | Buffer) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
    const gz = f('config.gz', zlib.gzipSync(NONE_CONFIG));
    const missing = path.join(dir, 'absent');
    assert.deepEqual(kernelPreempt({ cmdline: f('c1', 'ro quiet'), debugfs: missing, configs: [missing, gz] }), { mode: 'none', source: 'config', dynamic: true });
    assert.deepEqual(kernelPreempt({ cmdline: f('c2', 'ro preempt=full'), debugfs: missing, configs: [gz] }), { mode: 'full', source: 'cmdline', dynamic: true });
    assert.deepEqual(kernelPreempt({ cmdline: missing, debugfs: f('d', 'none voluntary (full)'), configs: [gz] }), { mode: 'full', source: 'debugfs', dynamic: true });
    assert.deepEqual(kernelPreempt({ cmdline: missing, debugfs: missing, configs: [missing] }), { mode: 'unknown', source: 'none', dynamic: false });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the start-up line says what a host can do only where it matters', () => {
  assert.match(preemptLine({ mode: 'none', source: 'config', dynamic: true }), /preempt=full on the kernel command line/);
  assert.match(preemptLine({ mode: 'voluntary', source: 'config', dynamic: false }), /a kernel built with full preemption/);
  assert.equal(preemptLine({ mode: 'full', source: 'cmdline', dynamic: true }), 'kernel preemption: full (set on the kernel command line, changeable at boot)');
});
