// bugs.yaml parsing: a new entry that leaves `before` out is "not graded yet", exactly as `{ status: pending }`, and
// every bugs.yaml checked in under fixtures/blind-bugs/ loads.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rootDir } from '../core/paths.ts';
import { loadBugsFile, parseBugsFile, powerFigures } from './bugs-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdgrade-bugs-file-'));
for (const id of ['new-bug', 'graded-bug']) writeFileSync(join(dir, `${id}.patch`), '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (id: string, before?: string) =>
  `  - id: ${id}\n    summary: s\n    breaks: b\n${before === undefined ? '' : `    before: ${before}\n`}`;
const file = (bugs: string) => parseBugsFile(`chapter: 99-demo\nwritten: test\nbugs:\n${bugs}`, dir, 'bugs.yaml');

describe('bugs.yaml', () => {
  it('reads an entry without `before` as not graded yet, the same as `before: { status: pending }`', () => {
    const left = file(entry('new-bug') + entry('graded-bug', '{ status: missed, by: [] }'));
    const spelt = file(entry('new-bug', '{ status: pending }') + entry('graded-bug', '{ status: missed, by: [] }'));
    const nulled = file(entry('new-bug', 'null') + entry('graded-bug', '{ status: missed, by: [] }'));
    expect(left.bugs[0]!.before).toEqual({ status: 'pending', by: [] });
    expect(left.bugs).toEqual(spelt.bugs);
    expect(nulled.bugs).toEqual(spelt.bugs);
    expect(powerFigures(left)).toEqual({
      written: 2,
      equivalent: 0,
      pending: 1,
      caughtBefore: 0,
      caughtAfter: 0,
      graded: 1,
    });
  });

  it('still refuses a `before` that is there but says nothing it knows', () => {
    expect(() => file(entry('new-bug', '{ status: pendng }'))).toThrow(/new-bug \(before\): status must be one of/);
    expect(() => file(entry('new-bug', '{}'))).toThrow(/status must be one of/);
  });

  it('refuses a `test:` that does not name a test file of the repository (a bug graded by a test file, not checks)', () => {
    const withTest = (t: string) => file(`${entry('new-bug')}    test: ${t}\n`);
    expect(() => withTest('reference/nowhere/missing.test.ts')).toThrow(/new-bug: test must name a \*\.test\.ts file/);
    expect(() => withTest('README.md')).toThrow(/test must name/);
  });

  it('loads every checked-in fixtures/blind-bugs/<chapter>/bugs.yaml', () => {
    const slugs = readdirSync(join(rootDir, 'fixtures', 'blind-bugs'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(slugs.length).toBeGreaterThan(0);
    for (const slug of slugs) {
      const f = loadBugsFile(slug);
      expect(f, slug).not.toBeNull();
      expect(f!.chapter, slug).toBe(slug);
    }
  });
});
