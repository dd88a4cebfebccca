// Bytes a directory takes on disk, summed over its files (for storage-per-record targets), and the bytes of files
// deleted from it that a process still holds open (their space is not given back until the last descriptor closes).
import { readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/**
 * Bytes of files once under `dir`, unlinked but still open in some process this user can see (Linux /proc; null
 * where there is no /proc): space `dirBytes` no longer counts that the disk has not got back.
 */
export function heldDeletedBytes(dir: string): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  const roots = [...new Set([dir, realpathSync(dir)])].map((r) => `${r.replace(/\/+$/, '')}/`);
  const seen = new Set<string>();
  let total = 0;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone meanwhile, or another user's
    }
    for (const fd of fds) {
      const p = `/proc/${pid}/fd/${fd}`;
      try {
        if (!roots.some((r) => readlinkSync(p).startsWith(r))) continue;
        const st = statSync(p);
        const id = `${st.dev}:${st.ino}`;
        if (!st.isFile() || st.nlink > 0 || seen.has(id)) continue;
        seen.add(id);
        total += st.size;
      } catch {
        // closed meanwhile
      }
    }
  }
  return total;
}

/** What a directory's data takes on disk: its files, and its files deleted but still held open. */
export function diskBytes(dir: string): number {
  return dirBytes(dir) + (heldDeletedBytes(dir) ?? 0);
}
