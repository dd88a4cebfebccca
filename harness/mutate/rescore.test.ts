// --rescore moves only survivors judged equivalent whose code still stands where the run mutated it; kills are
// never added, and a judgment on moved code is refused rather than applied to whatever now sits on that line.
import { expect, it } from 'vitest';
import { regradedReport, rescore, sameMutantToday, textAt } from './rescore.ts';
import type { MutantRecord, MutateReport } from './run-mutate.ts';
import { wilson } from './score.ts';

const source = ['const a = 1;', 'if (a > 0) {', '  go();', '}'].join('\n');

function rec(over: Partial<MutantRecord>): MutantRecord {
  return {
    id: '1',
    file: 'm.ts',
    mutator: 'EqualityOperator',
    replacement: 'a >= 0',
    start: { line: 2, column: 4 },
    end: { line: 2, column: 9 },
    original: 'a > 0',
    key: 'm.ts:2:4 EqualityOperator a >= 0',
    status: 'survived',
    ms: 1,
    ...over,
  };
}

function report(mutants: MutantRecord[]): MutateReport {
  return {
    files: ['m.ts'],
    totalMutants: 10,
    onSwitches: 0,
    sample: mutants.length,
    seed: 7,
    mutants,
    score: wilson(0, 0),
    counts: { killed: 0, timeout: 0, survived: 0, 'no-coverage': 0, equivalent: 0, error: 0 },
    baselineMs: 1,
  };
}

it('reads the text a mutant replaced at its recorded place, across lines too', () => {
  expect(textAt(source, { start: { line: 2, column: 4 }, end: { line: 2, column: 9 } })).toBe('a > 0');
  expect(textAt(source, { start: { line: 2, column: 11 }, end: { line: 4, column: 1 } })).toBe('{\n  go();\n}');
  expect(textAt(source, { start: { line: 9, column: 0 }, end: { line: 9, column: 1 } })).toBeNull();
});

it('moves a judged survivor out of the score and keeps every kill and open survivor as it was', () => {
  const judged = rec({});
  const open = rec({
    id: '2',
    key: 'other',
    start: { line: 3, column: 2 },
    end: { line: 3, column: 6 },
    original: 'go()',
  });
  const killed = rec({ id: '3', key: 'k', status: 'killed', by: 'X-C1' });
  const noCov = rec({
    id: '4',
    key: 'm.ts:3:2 MethodExpression stop()',
    mutator: 'MethodExpression',
    replacement: 'stop()',
    start: { line: 3, column: 2 },
    end: { line: 3, column: 6 },
    original: 'go()',
    status: 'no-coverage',
  });
  const r = rescore(
    report([judged, open, killed, noCov]),
    new Map([
      [judged.key, 'the reason a reviewer can check'],
      [noCov.key, 'never reached: the reason a reviewer can check'],
      ['k', 'a kill is never re-judged'],
    ]),
    () => source,
  );
  expect(r.applied).toEqual([judged.key, noCov.key]);
  expect(r.stale).toEqual([]);
  expect(r.report.mutants.map((m) => m.status)).toEqual(['equivalent', 'survived', 'killed', 'equivalent']);
  expect(r.report.mutants[0]?.judgedAfterRun).toBe(true);
  expect(r.report.counts).toMatchObject({ killed: 1, survived: 1, equivalent: 2 });
  expect(r.report.score).toMatchObject({ killed: 1, graded: 2, score: 0.5 });
});

it('refuses a judgment whose code moved since the run (keys name lines), and one whose module is gone', () => {
  const moved = ['// a line added above', source].join('\n');
  const m = rec({});
  const r = rescore(report([m]), new Map([[m.key, 'the reason a reviewer can check']]), () => moved);
  expect(r.applied).toEqual([]);
  expect(r.stale).toEqual([{ key: m.key, why: expect.stringMatching(/on none of the lines it names now/) }]);
  expect(r.report.mutants[0]?.status).toBe('survived');
  const gone = rescore(report([m]), new Map([[m.key, 'the reason a reviewer can check']]), () => null);
  expect(gone.stale[0]?.why).toMatch(/is gone/);
});

it('follows a judgment re-keyed to the line the same code moved to since the run, and nothing else', () => {
  const moved = ['// a line added above', source].join('\n');
  const m = rec({});
  const rekeyed = 'm.ts:3:4 EqualityOperator a >= 0';
  const r = rescore(report([m]), new Map([[rekeyed, 'the reason a reviewer can check']]), () => moved);
  expect(r.applied).toEqual([m.key]);
  expect(r.report.mutants[0]).toMatchObject({ status: 'equivalent', judgedAs: rekeyed });
  // the same key on a line holding other code does not apply
  const other = ['const a = 1;', 'if (b > 0) {', '  go();', '}'].join('\n');
  const r2 = rescore(report([m]), new Map([[m.key, 'the reason a reviewer can check']]), () => other);
  expect(r2.applied).toEqual([]);
  expect(r2.stale).toHaveLength(1);
});

it("finds the run's mutant in today's population by its surroundings, not the same code elsewhere", () => {
  const m = rec({});
  const info = (line: number, over: Partial<MutantRecord> = {}) => {
    const { key: _k, status: _s, ms: _m, ...i } = rec({ id: `t${line}`, start: { line, column: 4 }, ...over });
    return i;
  };
  const run = source;
  const moved = ['// added', '// added', source, '', 'const b = 2;', 'if (a > 0) {', '  stop();', '}'].join('\n');
  // line 4 holds the run's code in its run surroundings; line 10 the same `a > 0` in another block
  expect(sameMutantToday(m, [info(10), info(4)], { run, today: moved })?.id).toBe('t4');
  expect(sameMutantToday(m, [info(10)], { run, today: moved })).toBeUndefined();
  // without the run's source, only the very same line
  expect(sameMutantToday(m, [info(4)])).toBeUndefined();
  expect(sameMutantToday(m, [info(2)])?.id).toBe('t2');
  expect(sameMutantToday(m, [info(2, { original: 'a > 1' }), info(2, { replacement: 'a < 0' })])).toBeUndefined();
});

it("counts a survivor killed by today's checks, keeps the run's status on an error, and never touches a kill", () => {
  const open = rec({});
  const errs = rec({ id: '2', key: 'e' });
  const killed = rec({ id: '3', key: 'k', status: 'killed', by: 'X-C1' });
  const r = regradedReport(
    report([open, errs, killed]),
    new Map([
      [open.key, { ...open, status: 'killed', by: 'X-F2' }],
      ['e', { ...errs, status: 'error', reason: 'could not start' }],
    ]),
    'abc123',
  );
  expect(r.mutants.map((m) => [m.status, m.by, m.regradedAt])).toEqual([
    ['killed', 'X-F2', 'abc123'],
    ['survived', undefined, undefined],
    ['killed', 'X-C1', undefined],
  ]);
  expect(r.score).toMatchObject({ killed: 2, graded: 3 });
});
