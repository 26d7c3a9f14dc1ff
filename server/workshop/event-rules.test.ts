import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../errors.ts';
import { cleanDisplayName, gridCsv, gridFor, newEventCode, parseEventInput } from './event-rules.ts';

const NOW = Date.UTC(2026, 4, 4, 8, 0);
const known = (id: string) => ['a', 'b'].includes(id);
const raw = { name: ' DevConf ', labs: 'a, b', start: '2026-05-04T09:00Z', end: '+3h', expected: '30', capacity: '' };

test('an event from a form or the CLI: trimmed, labs checked, times absolute or relative', () => {
  const e = parseEventInput(raw, known, NOW);
  assert.deepEqual(e, { name: 'DevConf', labs: ['a', 'b'], startsAt: Date.UTC(2026, 4, 4, 9, 0), endsAt: NOW + 3 * 3_600_000, expected: 30, capacity: undefined });
  assert.deepEqual(parseEventInput({ ...raw, labs: ['b', 'b'] }, known, NOW).labs, ['b']);
});

test('what a host gets wrong is said in a sentence', () => {
  const bad = (over: object, re: RegExp) => assert.throws(() => parseEventInput({ ...raw, ...over }, known, NOW), (e: unknown) => e instanceof AppError && e.code === 'bad_request' && re.test(e.message));
  bad({ name: '' }, /needs a name/);
  bad({ labs: '' }, /at least one lab/);
  bad({ labs: 'a, zzz' }, /no lab called "zzz"/);
  bad({ start: 'tomorrow-ish' }, /not a date/);
  bad({ end: '2026-05-04T08:30Z' }, /end after it starts/);
  bad({ expected: '0' }, /whole number/);
  bad({ capacity: '10' }, /below the expected/);
});

test('codes avoid characters that look alike on a projector', () => {
  for (let i = 0; i < 200; i++) assert.match(newEventCode(6), /^[A-HJKMNP-Z2-9]{6}$/);
});

test('display names are trimmed and stripped of control characters; an empty one is refused', () => {
  assert.equal(cleanDisplayName('  Ada\u0007   Lovelace '), 'Ada Lovelace');
  assert.throws(() => cleanDisplayName('  '), AppError);
});

const lab = { id: 'l', title: 'Lab', steps: [{ id: 's1', title: 'Build', checks: ['c1', 'c2'] }, { id: 's2', title: 'Run', checks: ['c3'] }, { id: 's3', title: 'Read', checks: [] }] };

test('the grid: pass when every check passes, fail with the reason, stuck time since the last pass, and who has not started', () => {
  const g = gridFor({
    lab,
    participants: [{ learnerId: 'ann', name: 'Ann' }, { learnerId: 'bob', name: 'Bob' }],
    session: (id) => (id === 'ann' ? { id: 'sa', phase: 'ready', createdAt: NOW - 30 * 60_000 } : undefined),
    progress: (id) => (id === 'ann'
      ? [
        { id: 'c1', stepId: 's1', status: 'pass', message: 'ok', updatedAt: NOW - 12 * 60_000 },
        { id: 'c2', stepId: 's1', status: 'pass', message: 'ok', updatedAt: NOW - 12 * 60_000 },
        { id: 'c3', stepId: 's2', status: 'fail', message: 'app:v1 is 800 MB', updatedAt: NOW - 60_000 },
      ]
      : []),
    now: NOW,
  });
  const [ann, bob] = g.rows;
  assert.deepEqual(ann!.cells.map((c) => c.status), ['pass', 'fail', 'none']);
  assert.equal(ann!.cells[1]!.message, 'app:v1 is 800 MB');
  assert.equal(ann!.stuckMinutes, 12);
  assert.equal(ann!.passedSteps, 1);
  assert.equal(bob!.phase, 'not started');
  assert.equal(bob!.stuckMinutes, null);
  assert.deepEqual(bob!.cells.map((c) => c.status), ['none', 'none', 'none']);

  const csv = gridCsv({ name: 'DevConf' }, [g]);
  const lines = csv.trim().split('\r\n');
  assert.equal(lines[0], 'event,learner,lab,phase,steps_passed,steps_total,stuck_minutes,step_1,step_2,step_3');
  assert.equal(lines[1], 'DevConf,Ann,Lab,ready,1,2,12,Build: pass,Run: fail (app:v1 is 800 MB),Read: none');
  assert.equal(lines[2], 'DevConf,Bob,Lab,not started,0,2,,Build: none,Run: none,Read: none');
});

test('CSV cells are quoted and never start a spreadsheet formula', () => {
  const g = gridFor({ lab, participants: [{ learnerId: 'x', name: '=HYPERLINK("evil")' }], session: () => undefined, progress: () => [], now: NOW });
  const line = gridCsv({ name: 'a,b' }, [g]).split('\r\n')[1]!;
  assert.ok(line.startsWith(`"a,b","'=HYPERLINK(""evil"")"`), line);
});
