import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insideStack, planStack, stackName } from './stack-plan.ts';

test('compose by default, so build: works; its Dockerfiles are fetched beside it', () => {
  const p = planStack('services:\n  web:\n    build: ./web\n    ports: ["8080:8080"]\n  api:\n    build:\n      context: api\n      dockerfile: Dockerfile.dev\n  db:\n    image: redis:7\n', { name: 'demo' });
  assert.equal(p.mode, 'compose');
  assert.deepEqual(p.extraFiles.sort(), ['api/Dockerfile.dev', 'web/Dockerfile']);
});

test('a Swarm stack (deploy: keys, nothing to build) or mode=swarm is deployed as a stack', () => {
  assert.equal(planStack('services:\n  web:\n    image: busybox\n    deploy:\n      replicas: 3\n', { name: 's' }).mode, 'swarm');
  assert.equal(planStack('services:\n  web:\n    image: busybox\n', { name: 's', mode: 'swarm' }).mode, 'swarm');
  assert.equal(planStack('services:\n  web:\n    image: busybox\n    deploy:\n      replicas: 3\n', { name: 's', mode: 'compose' }).mode, 'compose');
});

test('what is not a stack, or leaves its folder, is refused with a reason', () => {
  assert.throws(() => planStack('just: text', { name: 's' }), /no "services:"/);
  assert.throws(() => planStack('services: [', { name: 's' }), /not valid YAML/);
  assert.throws(() => planStack('services:\n  a:\n    build: ../../etc\n', { name: 's' }), /outside its own folder/);
  assert.throws(() => insideStack('/etc/passwd'), /outside/);
  assert.throws(() => planStack('services:\n  a:\n    image: x\n', { name: 's', mode: 'k8s' }), /mode must be swarm or compose/);
});

test('stack names: the link\'s, else the file\'s folder, made safe for Docker', () => {
  assert.equal(stackName('My App!', ''), 'my-app');
  assert.equal(stackName(undefined, 'https://example.org/acme/voting/main/docker-compose.yml'), 'main');
  assert.equal(stackName(undefined, 'https://example.org/docker-compose.yml'), 'stack');
});
