// The rules both sides apply to a lab's variables: what a value may be, what a set button sets,
// when a conditional part shows, and $$name$$ substitution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_VARIABLE_CHARS, checkAssignments, conditionHolds, parseAssignments, substituteVariables, valueProblem } from '../protocol/variables.ts';

test('a value is one line of plain text up to the cap; anything else is refused with the reason', () => {
  assert.equal(valueProblem('who', 'Ada <script>alert(1)</script> & "quotes" ; $(rm -rf /) é 🐳'), undefined);
  assert.equal(valueProblem('who', 'x'.repeat(MAX_VARIABLE_CHARS)), undefined);
  assert.equal(valueProblem('who', 'x'.repeat(10 * 1024 * 1024)), `The value of who is 10,485,760 characters long; a value may have at most ${MAX_VARIABLE_CHARS}.`);
  assert.equal(valueProblem('who', 'a\nrm -rf /'), 'The value of who contains a control character (a line break); a value is one line of plain text.');
  assert.equal(valueProblem('who', 'a\u001b[2J'), 'The value of who contains a control character (an escape); a value is one line of plain text.');
  assert.match(valueProblem('who', 'a\u0085b')!, /U\+0085/);
  assert.equal(valueProblem('who', 42), 'The value of who must be text.');
});

test('assignments: only declared names, only good values, not too many', () => {
  assert.deepEqual(checkAssignments({ who: 'Ada' }, ['who', 'tag']), { ok: true, values: { who: 'Ada' } });
  assert.deepEqual(checkAssignments({ nope: 'x' }, ['who']), { ok: false, message: 'This lab has no variable called "nope".' });
  assert.deepEqual(checkAssignments({ __proto__: 'x' }, ['who']), { ok: false, message: 'No variable was given.' });
  assert.equal(checkAssignments({ who: 'a\rb' }, ['who']).ok, false);
  assert.equal(checkAssignments('who=Ada', ['who']).ok, false);
  assert.equal(checkAssignments([['who', 'Ada']], ['who']).ok, false);
  assert.equal(checkAssignments({}, ['who']).ok, false);
});

test('a set button\'s list: pairs split on commas, a value may hold "="', () => {
  assert.deepEqual(parseAssignments('a=1, b = two ,c=x=y,junk'), [['a', '1'], ['b', 'two'], ['c', 'x=y']]);
  assert.deepEqual(parseAssignments(''), []);
});

test('conditions: a value, has a value, has none', () => {
  assert.equal(conditionHolds({ variable: 'os', test: 'equals', value: 'mac' }, { os: 'mac' }), true);
  assert.equal(conditionHolds({ variable: 'os', test: 'equals', value: 'mac' }, { os: 'linux' }), false);
  assert.equal(conditionHolds({ variable: 'os', test: 'set' }, { os: '' }), false);
  assert.equal(conditionHolds({ variable: 'os', test: 'set' }, { os: 'x' }), true);
  assert.equal(conditionHolds({ variable: 'os', test: 'unset' }, {}), true);
});

test('substitution replaces known names only, and takes values literally', () => {
  assert.equal(substituteVariables('echo $$who$$ $$other$$ $$ $$who', { who: '$1 $$who$$ $&' }), 'echo $1 $$who$$ $& $$other$$ $$ $$who');
  assert.equal(substituteVariables('echo $$$$ $$', { who: 'x' }), 'echo $$$$ $$');
});

test('marking: text only, never inside a tag; the value escaped; undeclared names left alone', async () => {
  const { markVariables } = await import('./variables.ts');
  assert.equal(
    markVariables('<a title="$$who$$" href="/x/$$who$$">hi $$who$$ and $$nobody$$</a><code>$$who$$</code>', { who: '<img src=x onerror=alert(1)>"&' }),
    '<a title="$$who$$" href="/x/$$who$$">hi <span class="lab-var" data-lab-var="who">&lt;img src=x onerror=alert(1)&gt;&quot;&amp;</span> and $$nobody$$</a><code><span class="lab-var" data-lab-var="who">&lt;img src=x onerror=alert(1)&gt;&quot;&amp;</span></code>',
  );
});

test('front matter variables: a map of defaults; bad names and bad defaults are warnings', async () => {
  const { readVariables } = await import('./variables.ts');
  assert.deepEqual(readVariables({ who: 'world', n: 3, empty: null }), { defaults: { who: 'world', n: '3', empty: '' }, warnings: [] });
  assert.deepEqual(readVariables(undefined), { warnings: [] });
  const r = readVariables({ 'no good': 'x', big: 'x'.repeat(600), obj: { a: 1 } });
  assert.deepEqual(r.defaults, { big: '', obj: '' });
  assert.equal(r.warnings.length, 3);
  assert.equal(readVariables(['who']).warnings.length, 1);
});
