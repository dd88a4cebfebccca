// A throwaway copy of the repository with one blind bug's patch applied to the chapter's reference. The patch may
// only touch reference/<chapter>/ (what the bug's author was given); `git apply` works outside a repository, and the
// checkout itself is never modified.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { makeWorkspace, type Workspace } from '../mutate/workspace.ts';

export function patchedPaths(patchText: string): string[] {
  const out = new Set<string>();
  for (const m of patchText.matchAll(/^(?:---|\+\+\+) (?:[ab]\/)?(\S+)/gm)) if (m[1] !== '/dev/null') out.add(m[1]!);
  return [...out];
}

export function makePatchedWorkspace(root: string, slug: string, patchFile: string | null): Workspace {
  if (patchFile) {
    const paths = patchedPaths(readFileSync(patchFile, 'utf8'));
    if (paths.length === 0) throw new Error(`${patchFile}: not a unified diff (no ---/+++ lines)`);
    const outside = paths.filter((p) => !p.startsWith(`reference/${slug}/`));
    if (outside.length) throw new Error(`${patchFile}: touches ${outside.join(', ')}, outside reference/${slug}/`);
  }
  const ws = makeWorkspace(root, [], ['reference']);
  if (!patchFile) return ws;
  try {
    execFileSync('git', ['apply', '--whitespace=nowarn', patchFile], {
      cwd: ws.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    ws.remove();
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
    throw new Error(`${patchFile} does not apply to reference/${slug} as it is now: ${err}`);
  }
  return ws;
}
