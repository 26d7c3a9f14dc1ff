import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { hookAuthorized, sameSecret } from './labs-hook.ts';

const SECRET = 'a-hook-secret-of-some-length';

test('the hook secret: bearer, GitLab token or the HMAC of the body; anything else is refused', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const hmac = (key: string, b: Buffer) => `sha256=${crypto.createHmac('sha256', key).update(b).digest('hex')}`;
  assert.equal(hookAuthorized({ authorization: `Bearer ${SECRET}` }, body, SECRET), true);
  assert.equal(hookAuthorized({ 'x-gitlab-token': SECRET }, body, SECRET), true);
  assert.equal(hookAuthorized({ 'x-hub-signature-256': hmac(SECRET, body) }, body, SECRET), true);
  assert.equal(hookAuthorized({}, body, SECRET), false);
  assert.equal(hookAuthorized({ authorization: `Bearer ${SECRET}x` }, body, SECRET), false);
  assert.equal(hookAuthorized({ authorization: SECRET }, body, SECRET), false, 'a bare secret is not a bearer token');
  assert.equal(hookAuthorized({ 'x-hub-signature-256': hmac(SECRET, Buffer.from('{"ref":"other"}')) }, body, SECRET), false, 'signed for another body');
  assert.equal(hookAuthorized({ 'x-hub-signature-256': hmac('another-secret-entirely', body) }, body, SECRET), false);
  assert.equal(sameSecret('', SECRET), false, 'lengths differ: no throw, just no');
});
