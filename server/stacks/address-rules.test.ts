import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedRanges, refusedAddress } from './address-rules.ts';

test('private, loopback, link-local and metadata addresses are refused; public ones pass', () => {
  for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '169.254.169.254', '0.0.0.0', '100.64.0.1', '::1', 'fe80::1', 'fd00::5', '::ffff:10.0.0.1', '::ffff:127.0.0.1']) {
    assert.match(refusedAddress(a) ?? '', /private, loopback or link-local/, a);
  }
  for (const a of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '2606:4700::1111']) assert.equal(refusedAddress(a), undefined, a);
});

test('a range the host allowed passes, and only that range', () => {
  const allow = allowedRanges(['127.0.0.1/32']);
  assert.equal(refusedAddress('127.0.0.1', allow), undefined);
  assert.match(refusedAddress('127.0.0.2', allow) ?? '', /loopback/);
  assert.match(refusedAddress('10.0.0.1', allow) ?? '', /private/);
  assert.throws(() => allowedRanges(['localhost']), /not an address range/);
});
