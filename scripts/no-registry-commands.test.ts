// Issue 25: inside a checkout, `npx sdgrade` asks the npm registry for a package of that name (the project's own bin
// is not linked into its node_modules/.bin), so a documented command could download somebody else's code. Every
// tracked text file must run the checkout's CLI as `node bin/sdgrade.js`; `npx sdgrade` is allowed only between the
// markers of a section written for a project that installed the package.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const START = '<!-- installed-package:start -->';
const END = '<!-- installed-package:end -->';
const FORBIDDEN = /npx\s+(--yes\s+|-y\s+)?sdgrade(?![\w-])/;

/** Lines that show `npx sdgrade` outside an installed-package section: "file:line: text". */
function offendingLines(file: string, text: string): string[] {
  const out: string[] = [];
  let inside = false;
  text.split('\n').forEach((line, i) => {
    if (line.includes(START)) inside = true;
    if (!inside && FORBIDDEN.test(line)) out.push(`${file}:${i + 1}: ${line.trim()}`);
    if (line.includes(END)) inside = false;
  });
  return out;
}

describe('no documented command fetches the project by name from the registry', () => {
  it('finds the pattern it guards against (the check can fail)', () => {
    expect(offendingLines('x.md', 'run `npx sdgrade test 09`')).toHaveLength(1);
    expect(offendingLines('x.md', 'npx -y sdgrade list')).toHaveLength(1);
    expect(offendingLines('x.md', `${START}\nnpx sdgrade test 09\n${END}`)).toHaveLength(0);
    expect(offendingLines('x.md', `${START}\n${END}\nnpx sdgrade test 09`)).toHaveLength(1);
    expect(offendingLines('x.md', 'node bin/sdgrade.js test 09')).toHaveLength(0);
  });

  it('no tracked text file shows `npx sdgrade` outside an installed-package section', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
    const bad: string[] = [];
    for (const f of files) {
      if (f === 'scripts/no-registry-commands.test.ts') continue; // the patterns above
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch {
        continue; // deleted in the work tree
      }
      if (text.includes('\0')) continue; // binary
      bad.push(...offendingLines(f, text));
    }
    expect(bad, `run the checkout's CLI as \`node bin/sdgrade.js\`:\n${bad.join('\n')}`).toEqual([]);
  });
});
