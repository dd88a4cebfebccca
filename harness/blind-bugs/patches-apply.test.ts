// Blind-bug patches are tied to the reference's exact lines, so any refactor of a reference can leave one that no
// longer applies; `sdgrade blind-bugs` then reports it as an error instead of grading it. This keeps every checked-in
// patch applicable to the checkout (a refactor that breaks one rewrites it in the same change).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootDir } from '../core/paths.ts';

const bugsRoot = join(rootDir, 'fixtures', 'blind-bugs');
const chapters = readdirSync(bugsRoot, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function applies(patch: string): string | null {
  try {
    execFileSync('git', ['apply', '--check', patch], { cwd: rootDir, stdio: ['ignore', 'ignore', 'pipe'] });
    return null;
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e).trim();
  }
}

describe('blind-bug patches apply to the reference as it is', () => {
  it.each(chapters)('%s', (chapter) => {
    const dir = join(bugsRoot, chapter);
    const failures = readdirSync(dir)
      .filter((f) => f.endsWith('.patch'))
      .map((f) => [f, applies(join(dir, f))] as const)
      .filter(([, err]) => err !== null)
      .map(([f, err]) => `${f}: ${err}`);
    expect(failures).toEqual([]);
  });

  it('the check can fail: a patch whose lines are no longer in the reference is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdgrade-stale-patch-'));
    const stale = join(dir, 'stale.patch');
    writeFileSync(
      stale,
      '--- a/reference/05-rate-limiter/main.ts\n+++ b/reference/05-rate-limiter/main.ts\n@@ -1,1 +1,1 @@\n' +
        '-a line this file never had\n+its replacement\n',
    );
    try {
      expect(applies(stale)).toMatch(/patch does not apply|error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
