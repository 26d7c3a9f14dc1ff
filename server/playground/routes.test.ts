import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BADGE_SVG, trySnippets } from './routes.ts';

test('the Try-it snippet links our badge to a playground that deploys the stack, in Markdown and HTML', () => {
  const s = trySnippets('https://labs.example.org', 'https://example.org/app/docker-compose.yml?ref=main&x=1');
  assert.equal(s.link, 'https://labs.example.org/play?stack=https%3A%2F%2Fexample.org%2Fapp%2Fdocker-compose.yml%3Fref%3Dmain%26x%3D1');
  assert.equal(s.markdown, `[![Try it here](https://labs.example.org/badge.svg)](${s.link})`);
  assert.equal(s.html, `<a href="${s.link}"><img src="https://labs.example.org/badge.svg" alt="Try it here"></a>`);
  assert.match(BADGE_SVG, /^<svg [^>]*aria-label="Try it here"/);
});
