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
  read: (seen: (objectId: string, etag: string) => void) => Promise<T>,
): Promise<T> {
  let failed: { objectId: string; etag: string; error: unknown } | undefined;
  for (let attempt = 1; ; attempt++) {
    let current: { objectId: string; etag: string } | undefined;
    try {
      return await read((objectId, etag) => {
        // MUTANT read-again-by-etag: the object told apart by its ETag, so an overwrite with the same bytes (a new
        // object, the same ETag) is taken for damaged bytes (500).
        const same = o.mutant === 'read-again-by-etag' ? etag === failed?.etag : objectId === failed?.objectId;
        if (failed && same) throw failed.error;
        current = { objectId, etag };
      });
    } catch (error) {
      // MUTANT get-not-reread: a read whose bytes were dropped under it answers the error (500).
      const retry = o.mutant !== 'get-not-reread' && error instanceof ChecksumError && attempt < MAX_ATTEMPTS;
      if (!retry || current === undefined) throw error;
      failed = { ...current, error };
    }
  }
}
