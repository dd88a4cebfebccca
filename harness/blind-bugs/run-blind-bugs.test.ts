// The blind-bug runner on a tiny repository in a temp folder and a fake grader that "fails a check" when the patched
// file says so: patches apply to a copy (never the checkout), baseline failures are noise not catches, and a
// recorded catch that is gone is a regression.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Grader } from '../mutate/run-mutate.ts';
import { parseBugsFile, powerFigures } from './bugs-file.ts';
import { makePatchedWorkspace, patchedPaths } from './patched-workspace.ts';
import { runBlindBugs } from './run-blind-bugs.ts';

const root = mkdtempSync(join(tmpdir(), 'sdgrade-bb-test-'));
const bugsDir = join(root, 'fixtures', 'blind-bugs', '99-demo');
mkdirSync(join(root, 'reference', '99-demo'), { recursive: true });
mkdirSync(bugsDir, { recursive: true });
writeFileSync(
  join(root, 'reference', '99-demo', 'limit.ts'),
  'export const limit = 10;\nexport const flaky = false;\n',
);
const patch = (from: string, to: string) =>
  `--- a/reference/99-demo/limit.ts\n+++ b/reference/99-demo/limit.ts\n@@ -1,2 +1,2 @@\n-${from}\n+${to}\n export const flaky = false;\n`;
writeFileSync(join(bugsDir, 'off-by-one.patch'), patch('export const limit = 10;', 'export const limit = 11;'));
writeFileSync(join(bugsDir, 'same-limit.patch'), patch('export const limit = 10;', 'export const limit = 5 + 5;'));
writeFileSync(join(bugsDir, 'stale.patch'), patch('export const limit = 7;', 'export const limit = 8;'));
writeFileSync(join(bugsDir, 'outside.patch'), '--- a/harness/x.ts\n+++ b/harness/x.ts\n@@ -1 +1 @@\n-a\n+b\n');

afterAll(() => rmSync(root, { recursive: true, force: true }));

const yaml = (bugs: string) => `chapter: 99-demo\nwritten: test\nbugs:\n${bugs}`;
const bug = (id: string, before: string, extra = '') =>
  `  - id: ${id}\n    summary: s\n    breaks: b\n    equivalent: ${extra || 'null'}\n    before: ${before}\n`;

// "Checks": LIM-1 fails unless the limit evaluates to 10; NOISE-1 fails everywhere (a slow machine); under the
// variant "layoutless", LAYOUT-1 fails too (a check that variant breaks by design, as 08's ticket IDs do UID-I4).
const envsSeen: Record<string, string>[] = [];
const variantsSeen: (string | undefined)[] = [];
const fakeGrader: Grader = async ({ workspace, env, variant }) => {
  envsSeen.push(env);
  variantsSeen.push(variant);
  const src = readFileSync(join(workspace, 'reference', '99-demo', 'limit.ts'), 'utf8');
  // a sum of integer literals, e.g. `5 + 5`
  const limit = src
    .match(/limit = ([^;]+);/)![1]!
    .split('+')
    .reduce((a, t) => a + Number(t.trim()), 0);
  const failed = [
    { id: 'NOISE-1', reason: 'timed out' },
    ...(limit === 10 ? [] : [{ id: 'LIM-1', reason: `limit ${limit}` }]),
    ...(variant === 'layoutless' ? [{ id: 'LAYOUT-1', reason: 'no layout' }] : []),
  ];
  return { status: 'killed', by: failed[0]!.id, failed };
};

function run(text: string) {
  const file = parseBugsFile(text, bugsDir, 'bugs.yaml');
  const log: string[] = [];
  return runBlindBugs({
    file,
    baseline: true,
    timeoutMs: 1000,
    grader: () => fakeGrader,
    workspace: (p) => makePatchedWorkspace(root, '99-demo', p),
    patchPath: (b) => join(bugsDir, b.patch),
    log: (l) => log.push(l),
  }).then((r) => ({ r, log }));
}

describe('blind bugs', () => {
  it('grades each patch on a copy, counts baseline failures as noise, and leaves the checkout untouched', async () => {
    const { r, log } = await run(
      yaml(
        bug('off-by-one', '{ status: caught, by: [LIM-1] }') +
          bug('same-limit', '{ status: equivalent, by: [] }', '"5 + 5 is 10: no client sees a difference"'),
      ),
    );
    expect(r.baseline?.failed).toEqual(['NOISE-1']);
    expect(r.bugs.map((b) => [b.id, b.status, b.by, b.noise, b.verdict])).toEqual([
      ['off-by-one', 'caught', ['LIM-1'], ['NOISE-1'], 'as-recorded'],
      ['same-limit', 'missed', [], ['NOISE-1'], 'as-recorded'],
    ]);
    // what caught it, with the check's reason (the baseline's noise left out); a miss has none
    expect(r.bugs.map((b) => b.failures)).toEqual([{ 'LIM-1': 'limit 11' }, undefined]);
    expect(r.regressions).toBe(0);
    expect(log.some((l) => l.includes('not counted as catches'))).toBe(true);
    expect(readFileSync(join(root, 'reference', '99-demo', 'limit.ts'), 'utf8')).toContain('limit = 10;');
  });

  it('reports a recorded catch that is gone, and an "equivalent" bug that is caught, as regressions', async () => {
    const { r } = await run(
      yaml(
        bug('same-limit', '{ status: caught, by: [LIM-1] }') +
          bug('off-by-one', '{ status: equivalent, by: [] }', '"claimed equivalent, wrongly"'),
      ),
    );
    expect(r.bugs.map((b) => b.verdict)).toEqual(['regressed', 'equivalent-caught']);
    expect(r.regressions).toBe(2);
  });

  it('says when a recorded miss is now caught, and when a patch no longer applies', async () => {
    const { r } = await run(
      yaml(bug('off-by-one', '{ status: missed, by: [] }') + bug('stale', '{ status: missed, by: [] }')),
    );
    expect(r.bugs[0]!.verdict).toBe('now-caught');
    expect(r.bugs[1]!.status).toBe('error');
    expect(r.bugs[1]!.reason).toMatch(/does not apply/);
    expect(r.errors).toBe(1);
  });

  it('refuses a patch outside the chapter reference, an equivalent bug without a reason, a catch without checks', () => {
    expect(() => makePatchedWorkspace(root, '99-demo', join(bugsDir, 'outside.patch'))).toThrow(/outside reference/);
    expect(patchedPaths(readFileSync(join(bugsDir, 'off-by-one.patch'), 'utf8'))).toEqual([
      'reference/99-demo/limit.ts',
    ]);
    expect(() => parseBugsFile(yaml(bug('same-limit', '{ status: equivalent, by: [] }')), bugsDir, 'f')).toThrow(
      /reason/,
    );
    expect(() => parseBugsFile(yaml(bug('off-by-one', '{ status: caught, by: [] }')), bugsDir, 'f')).toThrow(
      /names the checks/,
    );
    expect(() => parseBugsFile(yaml(bug('no-such-patch', '{ status: missed, by: [] }')), bugsDir, 'f')).toThrow(
      /not found/,
    );
  });

  it("gives the nodes a bug's deployment settings (its code path may need a non-default mode)", async () => {
    envsSeen.length = 0;
    const withEnv = bug('off-by-one', '{ status: caught, by: [LIM-1] }').replace(
      '    equivalent:',
      '    env: { ALGORITHM: leaking_bucket }\n    equivalent:',
    );
    const { r } = await run(yaml(withEnv));
    expect(r.bugs[0]!.status).toBe('caught');
    expect(envsSeen).toEqual([{}, { ALGORITHM: 'leaking_bucket' }]);
    expect(() => parseBugsFile(yaml(withEnv.replace('leaking_bucket }', '3 }')), bugsDir, 'f')).toThrow(/env/);
  });

  it("grades a bug in its deployment variant, against a baseline of that variant (the variant's own failures are noise)", async () => {
    variantsSeen.length = 0;
    const inVariant = (id: string, before: string) =>
      bug(id, before).replace('    equivalent:', '    variant: layoutless\n    equivalent:');
    const { r, log } = await run(
      yaml(
        inVariant('off-by-one', '{ status: caught, by: [LIM-1] }') +
          inVariant('same-limit', '{ status: missed, by: [] }'),
      ),
    );
    // The default baseline, one baseline of the variant (not one per bug), then each bug in the variant.
    expect(variantsSeen).toEqual([undefined, 'layoutless', 'layoutless', 'layoutless']);
    expect(r.variantBaselines['layoutless']?.failed).toEqual(['NOISE-1', 'LAYOUT-1']);
    expect(r.bugs.map((b) => [b.id, b.status, b.by, b.noise])).toEqual([
      ['off-by-one', 'caught', ['LIM-1'], ['NOISE-1', 'LAYOUT-1']],
      ['same-limit', 'missed', [], ['NOISE-1', 'LAYOUT-1']],
    ]);
    expect(log.some((l) => l.startsWith('baseline (variant layoutless)'))).toBe(true);
    expect(() =>
      parseBugsFile(
        yaml(inVariant('same-limit', '{ status: missed, by: [] }').replace('layoutless', 'Bad Name')),
        bugsDir,
        'f',
      ),
    ).toThrow(/variant/);
  });

  it('figures: caught before and after among non-equivalent, graded bugs', () => {
    const f = parseBugsFile(
      yaml(
        bug('off-by-one', '{ status: missed, by: [] }\n    after: { status: caught, by: [LIM-1], mutant: m }') +
          bug('same-limit', '{ status: equivalent, by: [] }', '"5 + 5 is 10: no client sees a difference"') +
          bug('stale', '{ status: pending, by: [] }'),
      ),
      bugsDir,
      'f',
    );
    expect(powerFigures(f)).toEqual({
      written: 3,
      equivalent: 1,
      pending: 1,
      caughtBefore: 0,
      caughtAfter: 1,
      graded: 1,
    });
  });
});
