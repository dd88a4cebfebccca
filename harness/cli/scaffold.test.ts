import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scaffoldChapter } from './scaffold.ts';

describe('new-chapter scaffold', () => {
  it('writes the chapter into every top-level folder with its names filled in', () => {
    const root = mkdtempSync(join(tmpdir(), 'sdgrade-scaffold-'));
    const lines = scaffoldChapter('05-rate-limiter', 'RL', root);
    for (const f of [
      'specs/05-rate-limiter/openapi.yaml',
      'specs/05-rate-limiter/catalog.yaml',
      'specs/05-rate-limiter/README.md',
      'reference/05-rate-limiter/main.ts',
      'reference/05-rate-limiter/mutants.ts',
      'reference/05-rate-limiter/manifest.json',
      'harness/chapters/05-rate-limiter/index.ts',
      'harness/chapters/05-rate-limiter/CHECKLIST.md',
      'load/05-rate-limiter.js',
      'fixtures/05-rate-limiter/README.md',
    ]) {
      expect(existsSync(join(root, f)), f).toBe(true);
      expect(readFileSync(join(root, f), 'utf8'), f).not.toMatch(/__[A-Z]+__/);
    }
    expect(readFileSync(join(root, 'specs/05-rate-limiter/catalog.yaml'), 'utf8')).toContain('id: RL-C1');
    expect(readFileSync(join(root, 'harness/chapters/05-rate-limiter/index.ts'), 'utf8')).toContain(
      'badInputIs4xxEverywhere',
    );
    expect(readFileSync(join(root, 'harness/chapters/05-rate-limiter/index.ts'), 'utf8')).toContain(
      'export const rateLimiter',
    );
    // The methods of issue 13 and the requirement -> check table come with every new chapter.
    const checklist = readFileSync(join(root, 'harness/chapters/05-rate-limiter/CHECKLIST.md'), 'utf8');
    for (const method of [
      'After every fault, re-verify everything acknowledged and keep writing',
      'Vary every dimension',
      'Assert what you record',
      "Never trust the implementation's account",
      'Helpers never hide what they test',
      'Passes alone, in order, shuffled',
    ])
      expect(checklist, method).toContain(method);
    const specReadme = readFileSync(join(root, 'specs/05-rate-limiter/README.md'), 'utf8');
    expect(specReadme).toContain('## Requirement -> check');
    // Issue 14: every new chapter measures its grading power with blind bugs and a Stryker sample.
    expect(specReadme).toContain('## Grading power');
    expect(specReadme).toContain('fixtures/blind-bugs/05-rate-limiter/');
    expect(specReadme).toContain('node bin/sdgrade.js blind-bugs 05');
    expect(lines.at(-1)).toMatch(/mutants 05-rate-limiter/);
    expect(() => scaffoldChapter('05-rate-limiter', 'RL', root)).toThrow(/refusing to overwrite/);
  });
  it('refuses a slug that is not a chapter of the book', () => {
    expect(() => scaffoldChapter('99-nope')).toThrow(/unknown chapter/);
  });
});
