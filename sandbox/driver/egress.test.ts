import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowEntryKind, createEgressFirewall, egressTag, parseResolvers, planEgressRules, rulesTagged } from './egress.ts';

const base = { bridge: 'br-abc', tag: egressTag('lablab-o-s1-12345678'), allowCidrs: ['198.51.100.0/24'], resolvers: ['10.255.255.53'] };

test('internet mode rejects private and link-local after allowing the session, replies and DNS', () => {
  const rules = planEgressRules({ ...base, policy: { mode: 'internet' } }).map((r) => r.join(' '));
  assert.match(rules[0]!, /-i br-abc -o br-abc .* -j RETURN/);
  assert.match(rules[1]!, /RELATED,ESTABLISHED .* -j RETURN/);
  assert.ok(rules.some((r) => /-d 10\.255\.255\.53 -p udp --dport 53 .*RETURN/.test(r)), 'DNS to the host resolver');
  for (const cidr of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']) {
    assert.ok(rules.some((r) => r.includes(`-d ${cidr} `) && r.endsWith('REJECT --reject-with icmp-admin-prohibited')), cidr);
  }
  assert.ok(!rules.some((r) => r.includes('198.51.100.0/24')), 'the allow-list is not used');
  assert.ok(rules.every((r) => r.includes(`--comment ${base.tag}`) && r.startsWith('-i br-abc')));
});

test('none mode rejects everything but the session itself, DNS included', () => {
  const rules = planEgressRules({ ...base, policy: { mode: 'none' } }).map((r) => r.join(' '));
  assert.equal(rules.length, 3);
  assert.ok(!rules.some((r) => r.includes('--dport 53')));
  assert.match(rules[2]!, /^-i br-abc -m comment .* -j REJECT/);
});

test('allowlist mode returns the listed CIDRs, then rejects the rest', () => {
  const rules = planEgressRules({ ...base, policy: { mode: 'allowlist' } }).map((r) => r.join(' '));
  const allowAt = rules.findIndex((r) => r.includes('-d 198.51.100.0/24') && r.endsWith('RETURN'));
  assert.ok(allowAt > 0);
  assert.match(rules.at(-1)!, /^-i br-abc -m comment .* -j REJECT/);
});

test('rulesTagged finds only our rules with that tag', () => {
  const listing = [
    '-N DOCKER-USER',
    `-A DOCKER-USER -i br-abc -m comment --comment ${base.tag} -j REJECT`,
    `-A DOCKER-USER -i br-def -m comment --comment "lablab-egress:other" -j REJECT`,
    '-A DOCKER-USER -m comment --comment someone-else -j RETURN',
    '-A DOCKER-USER -j RETURN',
  ].join('\n');
  assert.equal(rulesTagged(listing, (t) => t === base.tag).length, 1);
  assert.equal(rulesTagged(listing, () => true).length, 2);
});

test('resolvers and allow-list entries are read strictly', () => {
  assert.deepEqual(parseResolvers('# x\nnameserver 10.0.0.53\nnameserver fd00::1\noptions ndots:0\n'), ['10.0.0.53']);
  assert.equal(allowEntryKind('10.1.2.0/24'), 'cidr');
  assert.equal(allowEntryKind('10.1.2.3'), 'ip');
  assert.equal(allowEntryKind('mirror.example.org'), 'host');
  assert.equal(allowEntryKind('10.1.2.0/33'), null);
  assert.equal(allowEntryKind('-j ACCEPT'), null);
});

test('apply replaces a previous set in one iptables-restore; remove deletes exactly the tagged rules', async () => {
  let table = `-N DOCKER-USER\n-A DOCKER-USER -i br-abc -m comment --comment ${base.tag} -j REJECT\n-A DOCKER-USER -j RETURN\n`;
  const restores: string[] = [];
  const fw = createEgressFirewall({
    policy: { mode: 'allowlist', allow: ['mirror.example.org', '198.51.100.0/24'] },
    resolvConf: () => 'nameserver 10.255.255.53\n',
    lookup: async () => ['203.0.113.5'],
    run: async (cmd, _args, stdin) => {
      if (cmd === 'iptables') return table;
      restores.push(stdin!);
      return '';
    },
  });
  await fw.apply(base.tag, 'br-abc');
  assert.equal(restores.length, 1);
  assert.match(restores[0]!, /^\*filter\n-D DOCKER-USER -i br-abc -m comment --comment \S+ -j REJECT\n-I DOCKER-USER 1 /);
  assert.match(restores[0]!, /-d 203\.0\.113\.5 /);
  assert.match(restores[0]!, /COMMIT\n$/);
  await fw.remove(base.tag);
  assert.match(restores[1]!, /-D DOCKER-USER -i br-abc/);
  table = '-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n';
  await fw.remove(base.tag);
  assert.equal(restores.length, 2, 'nothing to remove, nothing run');
});

test('a bad allow-list entry is refused with its name', async () => {
  const fw = createEgressFirewall({ policy: { mode: 'allowlist', allow: ['not a host!'] }, run: async () => '', resolvConf: () => '' });
  await assert.rejects(fw.apply('t', 'br-x'), /"not a host!" is not a host name/);
});
