// A GET or HEAD reads an object's row, then its bytes. An overwrite (or a delete by version id) that commits between
// the two drops the bytes the row named, and reading them fails. S3 answers such a read with the object before the
// overwrite or the one after, entirely: so the read is made again from its row, which names the object current now.
import type { AppOptions } from './app.ts';
import { ChecksumError } from './data-store.ts';

/** Reads racing this many overwrites in a row give up (the last error stands): a bound, never reached in practice. */
const MAX_ATTEMPTS = 8;

/**
 * Runs `read` (its row looked up, `seen` told the bytes it names, then the bytes read) and runs it again when its
 * bytes could not be read and the row, looked up afresh, names other bytes. When it names the same ones the first
 * error stands, before they are read again: they are lost or damaged, and a 500 says so.
 */
export async function readAgainIfReplaced<T>(
  o: Pick<AppOptions, 'mutant'>,
  read: (seen: (objectId: string) => void) => Promise<T>,
): Promise<T> {
  let failed: { objectId: string; error: unknown } | undefined;
  for (let attempt = 1; ; attempt++) {
    let current: string | undefined;
    try {
      return await read((id) => {
        if (failed && id === failed.objectId) throw failed.error;
        current = id;
      });
    } catch (error) {
      // MUTANT get-not-reread: a read whose bytes were dropped under it answers the error (500).
      const retry = o.mutant !== 'get-not-reread' && error instanceof ChecksumError && attempt < MAX_ATTEMPTS;
      if (!retry || current === undefined) throw error;
      failed = { objectId: current, error };
    }
  }
}
