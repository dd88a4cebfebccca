// The mutants of the race checks (SOS-I6, SOS-I7, SOS-C7, SOS-F5; issue 19): each restores a race the reference had,
// or a blind bug had, on PostgreSQL, where requests interleave between their round trips (a part of mutants.ts's
// list, kept apart for its length). Graded with SDGRADE_DATABASE_URL set, skipped with the reason without it.
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
  // SOS-F5's: each shows only when PostgreSQL holds a commit or an answer (the harness's wire-protocol proxy).
  {
    name: 'abort-ends-after-answer',
    breaks: 'SOS-F5',
    description:
      'AbortMultipartUpload answers 204 once it has found the upload and ends it in the background: with the end not yet committed, ListParts after the 204 still finds the upload',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'complete-join-race-500',
    breaks: 'SOS-F5',
    description:
      'a complete whose join fails because an abort that ended the upload after its read of the parts dropped their bytes trusts the upload it looked up first, and answers 500 instead of NoSuchUpload',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'complete-loser-keeps-copy',
    breaks: 'SOS-F5',
    description:
      'a complete that loses to an abort after it joined the parts answers NoSuchUpload but never drops its joined copy: a whole object of bytes no entry names, never reclaimed by compaction',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'versions-newest-by-time',
    breaks: 'SOS-F5',
    description:
      "ListObjectVersions orders a key's versions by LastModified, then seq: a PUT that took its time first and committed last (the current version) is listed after the one that overtook it",
    needs: ['SDGRADE_DATABASE_URL'],
  },
] as const satisfies readonly { name: string; breaks: string; description: string; needs?: readonly string[] }[];
