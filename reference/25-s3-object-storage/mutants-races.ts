// The mutants of the race checks (SOS-I6, SOS-I7, SOS-C7; issue 19): each restores a race the reference had, or a
// blind bug had, on PostgreSQL, where requests interleave between their round trips (a part of mutants.ts's list,
// kept apart for its length). Graded with SDGRADE_DATABASE_URL set, skipped with the reason without it.
export const RACE_MUTANTS = [
  {
    name: 'get-not-reread',
    breaks: 'SOS-I6',
    description:
      'a GET or HEAD whose bytes an overwrite (or a delete by id) dropped between its row and its bytes answers 500, instead of reading the row again',
    // The race shows where requests interleave between their awaits: PostgreSQL's round trips.
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'versioning-read-outside-write',
    breaks: 'SOS-I7',
    description:
      "an unversioned PUT, DELETE or complete trusts the versioning state read before its transaction: racing the first PutBucketVersioning, it drops the bytes the key's new `null` version names",
    // The race shows where requests interleave between their awaits: PostgreSQL's round trips.
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'get-version-id-read-apart',
    breaks: 'SOS-I6',
    description:
      "a GET or HEAD in a versioned bucket reads the newest version's id and the current object in two queries: racing a PUT, it answers the new object under the previous version's id",
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'read-again-by-etag',
    breaks: 'SOS-I6',
    description:
      'a read whose bytes were dropped under it reads again only when the row names another ETag, so a read racing an overwrite with the same bytes (a new object, the same ETag) answers 500',
    needs: ['SDGRADE_DATABASE_URL'],
  },
] as const satisfies readonly { name: string; breaks: string; description: string; needs?: readonly string[] }[];
