import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, idsIn } from './logger.ts';

const at = new Date('2026-05-04T09:00:00.000Z');

function capture(format: 'human' | 'json', stacks = false) {
  const lines: string[] = [];
  const logger = createLogger({ format, write: (s) => lines.push(...s.split('\n').filter(Boolean)), now: () => at, stacks });
  return { logger, lines };
}

test('human lines by default: time, message, the error after a colon', () => {
  const { logger, lines } = capture('human');
  logger.log('Docker labs: listening on http://127.0.0.1:8080');
  logger.log('session AbCdEfGhIjKl: sandbox failed to start', new Error('no space left'));
  assert.deepEqual(lines, [
    '2026-05-04T09:00:00.000Z Docker labs: listening on http://127.0.0.1:8080',
    '2026-05-04T09:00:00.000Z session AbCdEfGhIjKl: sandbox failed to start: no space left',
  ]);
});

test('LOG_FORMAT=json: one object a line with level, time, msg, session and sandbox ids, the error', () => {
  const { logger, lines } = capture('json');
  logger.log('session AbCd-fGh_jKl sandbox 0123456789ab: terminal through the host dtach client');
  logger.log('session AbCdEfGhIjKl: sandbox failed to start', new Error('no space left'));
  logger.log('lab problem: labs/x.md:3: unknown check kind');
  const [a, b, c] = lines.map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.deepEqual(a, { level: 'info', time: '2026-05-04T09:00:00.000Z', session: 'AbCd-fGh_jKl', sandbox: '0123456789ab', msg: 'session AbCd-fGh_jKl sandbox 0123456789ab: terminal through the host dtach client' });
  assert.deepEqual(b, { level: 'error', time: '2026-05-04T09:00:00.000Z', session: 'AbCdEfGhIjKl', err: { type: 'Error', message: 'no space left' }, msg: 'session AbCdEfGhIjKl: sandbox failed to start' });
  assert.deepEqual(c, { level: 'info', time: '2026-05-04T09:00:00.000Z', msg: 'lab problem: labs/x.md:3: unknown check kind' });
});

test('a message with a newline or quotes stays one JSON line; stacks only with DEBUG', () => {
  const { logger, lines } = capture('json', true);
  logger.log('bad "input"\nsecond line', 'plain string');
  const err = new Error('boom');
  logger.log('failed', err);
  assert.equal(lines.length, 2);
  assert.equal(JSON.parse(lines[0]!).msg, 'bad "input"\nsecond line');
  assert.deepEqual(JSON.parse(lines[0]!).err, { message: 'plain string' });
  assert.equal(JSON.parse(lines[1]!).err.stack, err.stack);
});

test('ids are only taken where the wording names them', () => {
  assert.deepEqual(idsIn('sandbox failed to start'), {});
  assert.deepEqual(idsIn('sandbox 0123456789ab (node1): create 12, start 80 ms'), { sandbox: '0123456789ab' });
  assert.deepEqual(idsIn('reap: could not destroy sandbox 0123456789ab'), { sandbox: '0123456789ab' });
});
