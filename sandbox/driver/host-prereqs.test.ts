import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHostPrereqs, iptablesBackend, overlappingSubids, readHostPrereqFacts, type HostPrereqFacts } from './host-prereqs.ts';

const good: HostPrereqFacts = {
  loopControl: true,
  overlay: true,
  brNetfilter: true,
  ipVs: true,
  iptables: 'nft',
  dockerChainsIn: ['nft'],
  unprivilegedUsernsClone: 1,
  apparmorRestrictsUserns: null,
  subidOverlaps: [],
};

test('a host with everything gets one ok line per prerequisite', () => {
  const lines = describeHostPrereqs(good);
  assert.equal(lines.length, 6);
  assert.ok(lines.every((l) => l.ok), JSON.stringify(lines));
  assert.match(lines[4]!.line, /iptables: nft, the same backend/);
});

test('each missing prerequisite is named with the command that fixes it', () => {
  const lines = describeHostPrereqs({ ...good, loopControl: false, overlay: false, brNetfilter: false, ipVs: false });
  assert.match(lines[0]!.line, /loop devices: MISSING.*fix: modprobe loop/);
  assert.match(lines[1]!.line, /overlay file system: MISSING.*fix: modprobe overlay/);
  assert.match(lines[2]!.line, /br_netfilter: MISSING.*fix: modprobe br_netfilter/);
  assert.match(lines[3]!.line, /ip_vs: MISSING.*Swarm.*fix: modprobe ip_vs/);
  assert.deepEqual(lines.map((l) => l.ok), [false, false, false, false, true, true]);
});

test('iptables: absent, a backend the engine does not use, and no chains yet', () => {
  assert.match(describeHostPrereqs({ ...good, iptables: null })[4]!.line, /iptables: MISSING.*apt-get install iptables/);
  const mismatch = describeHostPrereqs({ ...good, iptables: 'nft', dockerChainsIn: ['legacy'] })[4]!;
  assert.equal(mismatch.ok, false);
  assert.match(mismatch.line, /MISMATCH: `iptables` is nft, the engine's chains are in legacy.*update-alternatives --set iptables \/usr\/sbin\/iptables-legacy/);
  assert.match(describeHostPrereqs({ ...good, dockerChainsIn: [] })[4]!.line, /DOCKER-USER chain is in no backend/);
  assert.equal(iptablesBackend('iptables v1.8.9 (nf_tables)'), 'nft');
  assert.equal(iptablesBackend('iptables v1.8.9 (legacy)'), 'legacy');
  assert.equal(iptablesBackend('iptables v1.6.1'), 'legacy');
  assert.equal(iptablesBackend('bash: iptables: not found'), null);
});

test('subordinate id ranges that overlap the sandboxes\' host uids are named; neighbours are not', () => {
  const text = ['root:1048576:65536', 'alice:100000:65536', 'bob:1114112:65536', 'carol:1000000:48577', '# comment', 'dave:1000000:48576'].join('\n');
  assert.deepEqual(overlappingSubids(text), ['root:1048576:65536', 'carol:1000000:48577']);
  const line = describeHostPrereqs({ ...good, subidOverlaps: ['carol:1000000:48577'] })[5]!;
  assert.equal(line.ok, false);
  assert.match(line.line, /also given out.*carol:1000000:48577/);
});

test('nested user namespace switches are a note on the user namespace line, not a failure', () => {
  const line = describeHostPrereqs({ ...good, unprivilegedUsernsClone: 0, apparmorRestrictsUserns: 1 })[5]!;
  assert.equal(line.ok, true);
  assert.match(line.line, /unprivileged_userns_clone=0.*apparmor_restrict_unprivileged_userns=1/);
});

test('the reader asks the files and both iptables backends', () => {
  const files: Record<string, string> = {
    '/proc/filesystems': 'nodev\tsysfs\nnodev\toverlay\n',
    '/proc/sys/kernel/unprivileged_userns_clone': '0\n',
    '/etc/subuid': 'eve:1050000:10\n',
  };
  const present = new Set(['/dev/loop-control', '/sys/module/ip_vs']);
  const calls: string[] = [];
  const f = readHostPrereqFacts({
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw new Error('ENOENT');
    },
    exists: (p) => present.has(p),
    run: (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      if (cmd === 'iptables') return 'iptables v1.8.9 (legacy)\n';
      return cmd === 'iptables-legacy' ? 'Chain DOCKER-USER (1 references)\n' : null;
    },
  });
  assert.deepEqual(f, {
    loopControl: true,
    overlay: true,
    brNetfilter: false,
    ipVs: true,
    iptables: 'legacy',
    dockerChainsIn: ['legacy'],
    unprivilegedUsernsClone: 0,
    apparmorRestrictsUserns: null,
    subidOverlaps: ['eve:1050000:10'],
  });
  assert.ok(calls.includes('iptables-nft -w -n -L DOCKER-USER'));
});
