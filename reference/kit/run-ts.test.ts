// The launcher the reference manifests start their entries with: the entry runs from a bundle rebuilt when a source
// changes, sees its own import.meta.url and arguments as under tsx, and falls back to tsx where no bundle can be made.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tree = mkdtempSync(join(tmpdir(), 'sdgrade-run-ts-'));
afterAll(() => rmSync(tree, { recursive: true, force: true }));
mkdirSync(join(tree, 'reference', 'kit'), { recursive: true });
mkdirSync(join(tree, 'reference', 'x'));
cpSync(join(repo, 'reference', 'kit', 'run-ts.mjs'), join(tree, 'reference', 'kit', 'run-ts.mjs'));
symlinkSync(join(repo, 'node_modules'), join(tree, 'node_modules'));
writeFileSync(join(tree, 'package.json'), '{ "type": "module" }\n'); // as the repository's
const main = join(tree, 'reference', 'x', 'main.ts');
const dep = join(tree, 'reference', 'x', 'dep.ts');
writeFileSync(
  main,
  "import { value } from './dep.ts';\nconst n: number = 1;\nconsole.log(JSON.stringify({ url: import.meta.url, argv: process.argv.slice(1), value, n }));\n",
);
const setDep = (v: string) => writeFileSync(dep, `export const value: string = ${JSON.stringify(v)};\n`);

function run(): { out: { url: string; argv: string[]; value: string; n: number } } {
  const out = execFileSync('node', [join(tree, 'reference', 'kit', 'run-ts.mjs'), main, 'a', 'b'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { out: JSON.parse(out.trim().split('\n').pop() ?? '') };
}

describe('reference/kit/run-ts.mjs', () => {
  it('runs the entry from a bundle with its own import.meta.url and arguments, rebuilt when a source changes', () => {
    setDep('first');
    const a = run().out;
    expect(a).toEqual({ url: pathToFileURL(main).href, argv: [main, 'a', 'b'], value: 'first', n: 1 });
    setDep('second');
    expect(run().out.value).toBe('second');
    // The bundle is kept: a start with nothing changed reads the same sources again and runs it.
    expect(run().out.value).toBe('second');
  });

  it('runs the entry through tsx where no bundle can be made (the cache folder cannot be created)', () => {
    rmSync(join(tree, '.cache'), { recursive: true, force: true });
    writeFileSync(join(tree, '.cache'), 'not a folder');
    setDep('third');
    const r = execFileSync('node', [join(tree, 'reference', 'kit', 'run-ts.mjs'), main, 'a'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(JSON.parse(r.trim())).toEqual({ url: pathToFileURL(main).href, argv: [main, 'a'], value: 'third', n: 1 });
    rmSync(join(tree, '.cache'));
  });
});
