import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowControl, AckCounter } from './flow-control.ts';

test('pauses above the high watermark and resumes below the low one', () => {
  const changes: boolean[] = [];
  const fc = new FlowControl({ high: 100, low: 10 }, (p) => changes.push(p));
  fc.addViewer('a');
  fc.sent(60);
  assert.equal(fc.isPaused, false);
  fc.sent(60);
  assert.equal(fc.isPaused, true);
  fc.acked('a', 100);
  assert.equal(fc.isPaused, true, 'still 20 unacked, above low');
  fc.acked('a', 15);
  assert.equal(fc.isPaused, false);
  assert.deepEqual(changes, [true, false]);
});

test('the slowest viewer governs; a viewer leaving releases the pause', () => {
  const fc = new FlowControl({ high: 100, low: 10 }, () => {});
  fc.addViewer('fast');
  fc.addViewer('slow');
  fc.sent(150);
  fc.acked('fast', 150);
  assert.equal(fc.isPaused, true);
  fc.removeViewer('slow');
  assert.equal(fc.isPaused, false);
});

test('with no viewers output never pauses (it only feeds scrollback)', () => {
  const fc = new FlowControl({ high: 100, low: 10 }, () => {});
  fc.sent(10_000);
  assert.equal(fc.isPaused, false);
});

test('bogus acks are ignored or clamped', () => {
  const fc = new FlowControl({ high: 100, low: 10 }, () => {});
  fc.addViewer('a');
  fc.sent(200);
  fc.acked('a', NaN);
  fc.acked('a', -5);
  fc.acked('nobody', 500);
  assert.equal(fc.isPaused, true);
  fc.acked('a', 1e9);
  assert.equal(fc.isPaused, false);
  fc.sent(50);
  assert.equal(fc.isPaused, false, 'over-ack did not bank credit');
});

test('rejects a low watermark above the high one', () => {
  assert.throws(() => new FlowControl({ high: 10, low: 20 }, () => {}));
});

test('AckCounter acks in batches of at least `every`', () => {
  const c = new AckCounter(100);
  assert.equal(c.rendered(40), 0);
  assert.equal(c.rendered(40), 0);
  assert.equal(c.rendered(40), 120);
  assert.equal(c.rendered(99), 0);
});
