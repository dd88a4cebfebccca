import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison, relativeWorsening } from './compare.ts';
import { loadFixture } from './test-support.ts';

const base = () => loadFixture('sample-run');
const regressed = () => loadFixture('sample-run-regressed');

describe('compareRuns on the sample fixtures', () => {
  const c = compareRuns(base(), regressed(), { speedThreshold: 0.15 });

  it('finds the check that went from pass to fail', () => {
    expect(c.correctnessRegressions).toEqual([
      '09-url-shortener URL-I1 (property) pass -> fail: The redirect Location differs from the long URL that was shortened: a trailing slash was added to the path',
    ]);
  });

  it('finds the same-run capacity ratio that got 30% worse', () => {
    expect(c.speedRegressions).toEqual([
      '09-url-shortener URL-T6 ratio to no-op node:http server, same machine, same run 0.472× -> 0.33× (30.0% worse, threshold 15.0%)',
    ]);
  });

  it('lists skipped checks as not comparable, never as regressions or passes', () => {
    expect(c.notComparable).toEqual([
      '09-url-shortener URL-F2: skipped in both runs',
      '09-url-shortener URL-F3: skipped in both runs',
    ]);
    expect([...c.correctnessRegressions, ...c.improvements].join('\n')).not.toMatch(/URL-F[23]/);
  });

  it('counts the rest as unchanged and exits 1', () => {
    // 15 checks - 2 skipped - 1 regressed + 7 targets - 1 slower + 2 scenarios
    expect(c.unchanged).toBe(20);
    expect(c.improvements).toEqual([]);
    expect(c.exitCode).toBe(1);
  });

  it('formats the lines a CLI prints', () => {
    expect(c.lines[0]).toBe(
      'Comparing run A 2025-11-03T14-02-11Z-9c1e4f2 with run B 2025-11-04T09-41-52Z-b7d20a1 (speed threshold 15.0%)',
    );
    expect(c.lines).toContain('Correctness regressions (1):');
    expect(c.lines).toContain('Speed regressions (1):');
    expect(c.lines).toContain('Improvements (0): none');
    expect(c.lines.at(-1)).toBe('REGRESSED: 1 correctness, 1 speed; 0 improved, 20 unchanged, 2 not comparable');
    expect(formatComparison(c)).toEqual(c.lines);
  });
});

describe('compareRuns rules', () => {
  it('exits 0 and reports everything unchanged for the same run', () => {
    const c = compareRuns(base(), base(), { speedThreshold: 0.15 });
    expect(c.exitCode).toBe(0);
    expect([...c.correctnessRegressions, ...c.speedRegressions, ...c.improvements]).toEqual([]);
    expect(c.unchanged).toBe(22);
    expect(c.lines.at(-1)).toBe('OK: no regressions; 0 improved, 22 unchanged, 2 not comparable');
  });

  it('respects the threshold', () => {
    expect(compareRuns(base(), regressed(), { speedThreshold: 0.35 }).speedRegressions).toEqual([]);
    const strict = compareRuns(base(), regressed(), { speedThreshold: 0.02 }).speedRegressions.join('\n');
    expect(strict).toContain('shorten p99 38.6 ms -> 40.1 ms (3.9% worse');
    expect(strict).toContain('URL-T5 shorten_p99 38.6 ms -> 40.1 ms (3.9% worse');
    expect(strict).toContain('redirect p99 14.8 ms -> 15.3 ms (3.4% worse');
    expect(strict).not.toContain('URL-T3');
  });

  it('exits 0 when only speed moved within the threshold and correctness held', () => {
    const b = regressed();
    b.chapters[0]!.checks[4]!.status = 'pass';
    expect(compareRuns(base(), b, { speedThreshold: 0.35 }).exitCode).toBe(0);
  });

  it('treats the reverse direction as improvements', () => {
    const c = compareRuns(regressed(), base(), { speedThreshold: 0.15 });
    expect(c.exitCode).toBe(0);
    expect(c.improvements).toEqual([
      '09-url-shortener URL-I1 (property) fail -> pass',
      '09-url-shortener URL-T6 ratio to no-op node:http server, same machine, same run 0.33× -> 0.472× (42.9% better)',
    ]);
  });

  it('flags a target verdict pass -> fail as a correctness regression', () => {
    const b = base();
    const t1 = b.chapters[0]!.targets[0]!;
    t1.verdict = 'fail';
    t1.value = 1100;
    const c = compareRuns(base(), b, { speedThreshold: 0.15 });
    expect(c.correctnessRegressions).toEqual([
      '09-url-shortener URL-T1 target met -> missed (1,158 req/s -> 1,100 req/s, rule >= 1,157 req/s)',
    ]);
    // 5% slower: below the 15% threshold, so a verdict change but not a speed regression.
    expect(c.speedRegressions).toEqual([]);
    expect(c.exitCode).toBe(1);
  });

  it('treats pass -> error as a regression and a skip in one run as not comparable', () => {
    const b = base();
    b.chapters[0]!.checks[0]!.status = 'error';
    b.chapters[0]!.checks[1]!.status = 'skipped';
    const a = base();
    a.chapters[0]!.checks[10]!.status = 'skipped';
    const c = compareRuns(a, b, { speedThreshold: 0.15 });
    expect(c.correctnessRegressions).toEqual(['09-url-shortener URL-C1 (conformance) pass -> error']);
    expect(c.notComparable).toContain('09-url-shortener URL-C2: skipped in run B');
    expect(c.notComparable).toContain('09-url-shortener URL-I7: skipped in run A');
  });

  it('does not compare targets that were skipped or not measured', () => {
    const b = base();
    const t2 = b.chapters[0]!.targets[1]!;
    t2.verdict = 'skipped';
    t2.value = null;
    delete t2.ratio;
    const c = compareRuns(base(), b, { speedThreshold: 0.15 });
    expect(c.notComparable).toContain('09-url-shortener URL-T2: skipped or not measured in run B');
    expect(c.speedRegressions.join('\n')).not.toContain('URL-T2');
  });

  it('prefers the ratio to a same-run yardstick over the noisy bare value', () => {
    const a = base();
    const b = base();
    Object.assign(a.chapters[0]!.targets[1]!, {
      value: 17000,
      yardstick: { name: 'no-op', value: 36000, unit: 'req/s' },
    });
    Object.assign(b.chapters[0]!.targets[1]!, {
      value: 12000,
      yardstick: { name: 'no-op', value: 25400, unit: 'req/s' },
    });
    // Bare rps fell 29%, but so did the machine's ceiling: the ratio held at 0.47.
    expect(compareRuns(a, b, { speedThreshold: 0.15 }).speedRegressions).toEqual([]);
    delete b.chapters[0]!.targets[1]!.yardstick;
    expect(compareRuns(a, b, { speedThreshold: 0.15 }).speedRegressions).toEqual([
      '09-url-shortener URL-T2 read_rps 17,000 req/s -> 12,000 req/s (29.4% worse, threshold 15.0%)',
    ]);
  });

  it('reads a ratio-unit target against a req/s yardstick by its value, ignoring a ratio field computed from it', () => {
    const a = base();
    const b = regressed();
    // value / yardstick.value for URL-T6 is 0.472 / 36040, rounded to 0 by the harness: meaningless.
    a.chapters[0]!.targets[5]!.ratio = 0;
    b.chapters[0]!.targets[5]!.ratio = 0;
    expect(compareRuns(a, b, { speedThreshold: 0.15 }).speedRegressions).toHaveLength(1);
  });

  it('uses <= targets in their direction: higher is worse', () => {
    const b = base();
    b.chapters[0]!.targets[3]!.value = 20; // URL-T4 redirect p99 14.8 -> 20 ms
    expect(compareRuns(base(), b, { speedThreshold: 0.15 }).speedRegressions).toEqual([
      '09-url-shortener URL-T4 redirect_p99 14.8 ms -> 20 ms (35.1% worse, threshold 15.0%)',
    ]);
    b.chapters[0]!.targets[3]!.value = 10;
    expect(compareRuns(base(), b, { speedThreshold: 0.15 }).improvements).toHaveLength(1);
  });

  it('treats a move away from zero on a <= 0 target as infinitely worse', () => {
    const b = base();
    b.chapters[0]!.targets[2]!.value = 0.001;
    expect(compareRuns(base(), b, { speedThreshold: 0.15 }).speedRegressions).toEqual([
      '09-url-shortener URL-T3 error_rate 0 -> 0.001 (worse, from 0, threshold 15.0%)',
    ]);
  });

  it('never grades info targets: a big ratio move is a note, a bare value is ignored', () => {
    const b = base();
    const t7 = b.chapters[0]!.targets[6]!;
    t7.value = 400;
    t7.ratio = 4;
    const c = compareRuns(base(), b, { speedThreshold: 0.15 });
    expect(c.exitCode).toBe(0);
    expect(c.notes).toEqual([
      "09-url-shortener URL-T7 ratio to the book's 100 bytes per record 2.12× -> 4× (changed 88.7%; info target, no direction)",
    ]);
    delete t7.ratio;
    delete t7.yardstick;
    expect(compareRuns(base(), b, { speedThreshold: 0.15 }).notes).toEqual([]);
  });

  it('lists items present in one run only as not comparable', () => {
    const b = base();
    b.chapters[0]!.checks.pop();
    delete b.chapters[0]!.load;
    b.chapters.push({ ...b.chapters[0]!, chapter: '04-rate-limiter', checks: [], targets: [] });
    const c = compareRuns(base(), b, { speedThreshold: 0.15 });
    expect(c.notComparable).toEqual(
      expect.arrayContaining([
        '09-url-shortener URL-F4: only in run A',
        '09-url-shortener load: only in run A',
        'chapter 04-rate-limiter: only in run B',
      ]),
    );
    expect(c.exitCode).toBe(0);
  });

  describe('a target beyond this machine', () => {
    const beyond = (run: ReturnType<typeof base>, yardstickRps: number) => {
      const t = run.chapters[0]!.targets[1]!; // URL-T2, the read rate
      t.verdict = 'beyond-machine';
      t.value = 6000;
      t.atRate = { offeredRps: 12731, yardstick: { carried: false, rps: yardstickRps, dropped: 40000, p99Ms: 800 } };
      return run;
    };
    const withYardstick = (run: ReturnType<typeof base>, rps: number) => {
      run.chapters[0]!.targets[1]!.atRate = {
        offeredRps: 12731,
        yardstick: { carried: true, rps, dropped: 0, p99Ms: 3 },
      };
      return run;
    };

    it('is neither a pass nor a regression when the yardstick moved (a smaller machine)', () => {
      const c = compareRuns(withYardstick(base(), 12731), beyond(base(), 7000), { speedThreshold: 0.15 });
      expect([...c.correctnessRegressions, ...c.speedRegressions, ...c.improvements].join('\n')).not.toMatch(/URL-T2/);
      expect(c.notComparable).toContain(
        '09-url-shortener URL-T2: beyond this machine (pass -> beyond-machine; no-op yardstick at the rate 12,731 -> 7,000 req/s)',
      );
      expect(c.notes.some((n) => n.startsWith('09-url-shortener URL-T2: the machine moved'))).toBe(true);
      expect(c.exitCode).toBe(0);
    });

    it('is not a pass either when it goes the other way, and both runs beyond the machine stay not comparable', () => {
      const back = compareRuns(beyond(base(), 7000), withYardstick(base(), 12731), { speedThreshold: 0.15 });
      expect(back.improvements.join('\n')).not.toMatch(/URL-T2/);
      const both = compareRuns(beyond(base(), 7000), beyond(base(), 7100), { speedThreshold: 0.15 });
      expect(both.notComparable.some((n) => n.startsWith('09-url-shortener URL-T2: beyond this machine'))).toBe(true);
      expect(both.exitCode).toBe(0);
    });

    it('is a speed regression when the yardstick stayed put and the implementation went from met to beyond', () => {
      const c = compareRuns(withYardstick(base(), 7050), beyond(base(), 7000), { speedThreshold: 0.15 });
      expect(c.speedRegressions).toEqual([
        '09-url-shortener URL-T2 target met -> beyond this machine while the no-op yardstick at the rate 7,050 -> 7,000 req/s stayed within 15.0%',
      ]);
      expect(c.exitCode).toBe(1);
    });
  });

  it('notes when the runs come from different machines', () => {
    const b = base();
    b.environment.cores = 8;
    expect(compareRuns(base(), b, { speedThreshold: 0.15 }).notes[0]).toMatch(/^different machines/);
  });

  it('rejects a nonsensical threshold', () => {
    expect(() => compareRuns(base(), base(), { speedThreshold: -1 })).toThrow(RangeError);
    expect(() => compareRuns(base(), base(), { speedThreshold: Number.NaN })).toThrow(/speedThreshold/);
  });
});

describe('relativeWorsening', () => {
  it('is positive when worse in the given direction', () => {
    expect(relativeWorsening(100, 70, 'higher')).toBeCloseTo(0.3);
    expect(relativeWorsening(100, 130, 'lower')).toBeCloseTo(0.3);
    expect(relativeWorsening(100, 130, 'higher')).toBeCloseTo(-0.3);
    expect(relativeWorsening(0, 0, 'lower')).toBe(0);
    expect(relativeWorsening(0, 1, 'lower')).toBe(Number.POSITIVE_INFINITY);
  });
});
