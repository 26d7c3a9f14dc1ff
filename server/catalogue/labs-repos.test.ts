import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabsRepoError, parseLabsRepo, parseLabsRepos } from './labs-repos.ts';

test('LABS_REPOS: URL, #branch and :subfolder; several entries; a readable key per entry', () => {
  const [a, b, c, d] = parseLabsRepos('https://git.example.org/team/labs.git#main:docker/basics, git://127.0.0.1:9418/labs.git\nssh://git@git.example.org/team/more.git#release/2026 git@git.example.org:team/ssh.git#:labs');
  assert.deepEqual([a!.url, a!.branch, a!.subdir], ['https://git.example.org/team/labs.git', 'main', 'docker/basics']);
  assert.match(a!.key, /^git-example-org-team-labs-[0-9a-f]{10}$/);
  assert.deepEqual([b!.branch, b!.subdir], [undefined, '']);
  assert.equal(c!.branch, 'release/2026');
  assert.deepEqual([d!.url, d!.branch, d!.subdir], ['git@git.example.org:team/ssh.git', undefined, 'labs']);
  assert.deepEqual(parseLabsRepos(''), []);
  assert.deepEqual(parseLabsRepos(undefined), []);
});

test('a token in an https URL is used for the clone but never shown', () => {
  const r = parseLabsRepo('https://oauth2:s3cret-token@git.example.org/team/labs.git#main');
  assert.equal(r.url, 'https://oauth2:s3cret-token@git.example.org/team/labs.git');
  assert.equal(r.display, 'https://git.example.org/team/labs.git#main');
  assert.doesNotMatch(r.key, /s3cret/);
  assert.throws(() => parseLabsRepo('https://oauth2:s3cret-token@git.example.org/x#bad..branch'), (e: Error) => !e.message.includes('s3cret'));
});

test('odd URLs are refused with the reason: local paths, file://, transport helpers, options, other protocols', () => {
  const refused: [string, RegExp][] = [
    ['/srv/git/labs.git', /not a URL/],
    ['../labs', /not a URL/],
    ['file:///srv/git/labs.git', /file: is not a protocol/],
    ['ext::sh -c touch% /tmp/pwned', /spaces|transport helpers/],
    ['ext::ssh', /transport helpers/],
    ['fd::3', /transport helpers/],
    ['--upload-pack=touch /tmp/x', /starts with "-"|spaces/],
    ['-oProxyCommand=x', /starts with "-"/],
    ['ftp://example.org/labs.git', /ftp: is not a protocol/],
    ['https://example.org/labs.git?x=1', /query/],
    ['ssh://-oProxyCommand=x/labs', /names no host|not a URL/],
  ];
  for (const [spec, why] of refused) assert.throws(() => parseLabsRepo(spec), (e: Error) => e instanceof LabsRepoError && why.test(e.message) && /Use https:\/\//.test(e.message), spec);
  for (const [spec, why] of [
    ['https://example.org/labs.git#-b', /not a branch name/],
    ['https://example.org/labs.git#a..b', /not a branch name/],
    ['https://example.org/labs.git#main:../../etc', /plain path/],
    ['https://example.org/labs.git#main:a/./b', /plain path/],
  ] as const) assert.throws(() => parseLabsRepo(spec), why, spec);
  assert.throws(() => parseLabsRepos('https://example.org/a.git https://example.org/a.git'), /twice/);
});
