// The installer against the real systemd tools, under a scratch root: `systemctl --root` enables
// and disables without a running systemd (this CI machine has none as PID 1), and
// `systemd-analyze verify` checks the unit it wrote as systemd would load it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { installService, uninstallService, type ServiceDeps } from './install.ts';

const exec = promisify(execFile);
/** Where systemd-analyze is missing the verify test is skipped with this reason (setup.sh installs it). */
const noAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).error
  ? 'systemd-analyze is not installed here (Debian package systemd; sandbox/host/setup.sh installs it): the unit is not verified'
  : false;
const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function deps(root: string, said: string[]): ServiceDeps {
  return {
    root,
    checkout,
    node: process.execPath,
    systemdRunning: false,
    run: async (cmd, args) => void (await exec(cmd, args)),
    say: (l) => said.push(l),
  };
}

test('install writes the unit and enables it; uninstall reverses it and keeps the env file', { timeout: 60_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-service-'));
  try {
    const said: string[] = [];
    await installService(deps(root, said));
    const unit = path.join(root, 'etc/systemd/system/lablab.service');
    const wants = path.join(root, 'etc/systemd/system/multi-user.target.wants/lablab.service');
    const env = path.join(root, 'etc/lablab/env');
    assert.ok(fs.existsSync(unit));
    assert.equal(fs.readlinkSync(wants), '/etc/systemd/system/lablab.service', 'enabled for multi-user.target');
    assert.equal(fs.statSync(env).mode & 0o777, 0o600, 'the env file may hold secrets: root only');
    assert.match(fs.readFileSync(env, 'utf8'), /^TRUST_PROXY=loopback$/m);

    // A second install keeps the host's settings.
    fs.appendFileSync(env, 'HOST_TOKEN=kept-1234\n');
    await installService(deps(root, said));
    assert.match(fs.readFileSync(env, 'utf8'), /HOST_TOKEN=kept-1234/);

    await uninstallService(deps(root, said));
    assert.ok(!fs.existsSync(unit), 'the unit is gone');
    assert.ok(!fs.existsSync(wants), 'no longer enabled');
    assert.ok(fs.existsSync(env), 'settings kept');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('systemd-analyze verify accepts the unit the installer writes', { skip: noAnalyze, timeout: 60_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lablab-service-'));
  try {
    await installService(deps(root, []));
    const unit = path.join(root, 'etc/systemd/system/lablab.service');
    const env = path.join(root, 'etc/lablab/env');
    // systemd's own reading of the unit: syntax, known settings, executables present, and the
    // docker.service it requires (Debian's docker.io ships it). It reads the env file's path as
    // given, so a copy of the unit points at the env file under the scratch root.
    const check = path.join(root, 'lablab.service');
    fs.writeFileSync(check, fs.readFileSync(unit, 'utf8').replace('EnvironmentFile=/etc/lablab/env', `EnvironmentFile=${env}`));
    const verified = await exec('systemd-analyze', ['verify', '--man=no', check]).catch((e: { stdout: string; stderr: string }) => e);
    assert.equal(verified.stderr.trim(), '', `systemd-analyze verify complained:\n${verified.stderr}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
