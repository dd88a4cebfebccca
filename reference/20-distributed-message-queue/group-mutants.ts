// The broken commit paths of the group coordinator's mutants (mutants.ts: commit-durable-later, commit-lost-update),
// kept apart so the coordinator reads as the reference.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';

const pending = new Set<string>();

/** MUTANT commit-durable-later: commits gathered for a second, then the group's file written once. */
export function commitLater(group: string, persist: () => void): void {
  if (pending.has(group)) return;
  pending.add(group);
  setTimeout(() => {
    pending.delete(group);
    persist();
  }, 1000).unref();
}

/**
 * MUTANT commit-lost-update: the group's file read, this commit's offsets set in it, the file written back (a
 * temporary file, fsync, rename) and the memory set from it, each step awaited: a commit that reads the file while
 * another is being written writes the older offsets back.
 */
export async function rewriteOffsetsAsync(
  path: string,
  offsets: readonly { partition: number; offset: number }[],
  set: (offsets: Map<number, number>) => void,
): Promise<boolean> {
  const stored = JSON.parse(await readFile(path, 'utf8')) as { offsets: Record<string, number> };
  for (const { partition, offset } of offsets) stored.offsets[String(partition)] = offset;
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(stored));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  set(new Map(Object.entries(stored.offsets).map(([p, o]) => [Number(p), o])));
  return true;
}
