import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SWARM_TEMPLATES, swarmRoles, templateById } from './swarm-template.ts';

test('the templates carry the names the page contract promises', () => {
  assert.deepEqual(SWARM_TEMPLATES.map((t) => t.name), ['3 managers and 2 workers', '5 managers', '1 manager and 1 worker']);
});

test('roles: the lowest node starts the swarm, then the managers, then the workers', () => {
  assert.deepEqual(swarmRoles([5, 1, 2, 4, 3], templateById('3m2w')), { first: 1, managers: [2, 3], workers: [4, 5] });
  assert.deepEqual(swarmRoles([2, 4], templateById('1m1w')), { first: 2, managers: [], workers: [4] });
  assert.deepEqual(swarmRoles([1, 2, 3, 4, 5], templateById('5m')), { first: 1, managers: [2, 3, 4, 5], workers: [] });
  assert.throws(() => swarmRoles([1, 2], templateById('5m')), /needs 5 nodes/);
});

test('an unknown template is refused with the list of known ones', () => {
  assert.throws(() => templateById('7x'), /There is no template "7x". Pick one of: 3 managers and 2 workers/);
});
