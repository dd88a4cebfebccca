// A throwaway copy of the repository in which the mutated sources are replaced by their instrumented versions. Only
// the top-level folders that hold mutated files are copied; everything else (node_modules, specs, harness...) is a
// symlink, so the copy costs a few megabytes and the original checkout is never touched.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SourceFile } from './instrument.ts';

const NEVER = new Set(['.git', 'results']);

export interface Workspace {
  dir: string;
  remove(): void;
}

/** `alsoCopy`: more top-level folders to copy rather than link (a patch will be applied to them). */
export function makeWorkspace(root: string, files: readonly SourceFile[], alsoCopy: readonly string[] = []): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-mutate-'));
  const copied = new Set([...files.map((f) => f.name.split('/')[0] as string), ...alsoCopy]);
  for (const entry of readdirSync(root)) {
    if (NEVER.has(entry)) continue;
    const from = join(root, entry);
    if (copied.has(entry)) cpSync(from, join(dir, entry), { recursive: true, dereference: false });
    else symlinkSync(from, join(dir, entry));
  }
  for (const f of files) {
    const to = join(dir, f.name);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, f.content);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
