import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAnswerFile } from './answer-files.ts';

test('answer files and folders are recognised at any depth', () => {
  for (const p of ['lab.md', 'verify.sh', 'step1/verify.sh', 'step2/VERIFY.SH', 'verify-step3.sh', 'solution.sh', 'step1/solution.md', 'solutions/app.go', 'solution/Dockerfile']) {
    assert.ok(isAnswerFile(p), p);
  }
  for (const p of ['Dockerfile', 'app.go', 'step1/text.md', 'verifier/main.go', 'resolution.txt', 'docs/lab.md', 'background.sh']) {
    assert.ok(!isAnswerFile(p), p);
  }
});
