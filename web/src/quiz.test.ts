import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quizAnswerIsRight } from './quiz-verdict.ts';

const opts = (checked: number[], correct: number[], n = 3) =>
  Array.from({ length: n }, (_, i) => ({ checked: checked.includes(i), correct: correct.includes(i) }));

test('single choice: the option picked must be a right one; with two marked right, either is', () => {
  assert.equal(quizAnswerIsRight('single', opts([1], [1])), true);
  assert.equal(quizAnswerIsRight('single', opts([0], [1])), false);
  assert.equal(quizAnswerIsRight('single', opts([0], [0, 2])), true);
  assert.equal(quizAnswerIsRight('single', opts([2], [0, 2])), true);
  assert.equal(quizAnswerIsRight('single', opts([1], [0, 2])), false);
  assert.equal(quizAnswerIsRight('single', opts([], [0, 2])), false);
});

test('multiple choice: exactly the right options', () => {
  assert.equal(quizAnswerIsRight('multiple', opts([0, 2], [0, 2])), true);
  assert.equal(quizAnswerIsRight('multiple', opts([0], [0, 2])), false);
  assert.equal(quizAnswerIsRight('multiple', opts([0, 1, 2], [0, 2])), false);
});
