// The mutants of the fault checks (SOS-F*: data nodes killed, bit flips, restarts, dependency faults; a part of mutants.ts's list, kept apart for its length).
export const FAULT_MUTANTS = [
  {
    name: 'ack-before-durable',
    breaks: 'SOS-F1',
    description: 'PUT answers before the metadata is written (3 s later): a kill -9 loses acknowledged objects',
  },
  {
    name: 'meta-before-data',
    breaks: 'SOS-F1',
    description:
      "PUT commits the object's row before appending its bytes (a body of 256 KiB or more 3 s later): a kill -9 mid-PUT leaves the key naming bytes never written (GET 500)",
  },
  {
    name: 'torn-put-orphan-kept',
    breaks: 'SOS-F1',
    description:
      'start-up keeps mapping entries no metadata row names (the row of a body of 256 KiB or more written 3 s after its bytes are mapped): a PUT torn by a kill -9 leaves its bytes mapped, never garbage, kept by every compaction',
  },
  {
    name: 'checksum-not-verified',
    breaks: 'SOS-F2',
    description: "an object's CRC-32 is not checked on read: a flipped bit on disk is served as data",
  },
  {
    name: 'compaction-drops-live-object',
    breaks: 'SOS-F4',
    description:
      "compaction never copies a file's last batch of mapping entries and deletes the file anyway: those objects are lost",
  },
  {
    name: 'compaction-maps-before-copy',
    breaks: 'SOS-F4',
    description:
      'compaction points the mapping at the copies before writing and syncing them (2 s later): a kill -9 in between loses the objects',
  },
  {
    name: 'get-async-read-races-compaction',
    breaks: 'SOS-F4',
    description:
      "a GET reads its object's bytes asynchronously with the file's descriptor taken first: a compaction that closes and deletes the file before the read starts fails the GET (500)",
  },
  {
    name: 'compaction-keeps-garbage',
    breaks: 'SOS-F4',
    description: 'compaction copies the live objects but never deletes the old file: no space is reclaimed',
  },
  {
    name: 'range-read-unchecked',
    breaks: 'SOS-F2',
    description: 'a ranged GET reads only its slice and skips the CRC-32: a flipped bit is served through a Range',
  },
  {
    name: 'part-ack-before-durable',
    breaks: 'SOS-F3',
    description: "UploadPart answers before the part's row is written (3 s later): a kill -9 loses acknowledged parts",
  },
  {
    name: 'complete-row-before-join',
    breaks: 'SOS-F3',
    description:
      "CompleteMultipartUpload commits the object's row (and ends the upload) before joining the parts into its bytes (3 s later): a kill -9 during a Complete leaves the key naming bytes never written (GET 500)",
  },
  {
    name: 'expired-parts-kept',
    breaks: 'SOS-F3',
    description:
      "an upload past its expiry (MULTIPART_EXPIRY_SECONDS) is forgotten (NoSuchUpload, not listed) but its parts' bytes are never dropped: no compaction reclaims them",
  },
  {
    name: 'expiry-from-last-part',
    breaks: 'SOS-F3',
    description:
      "an upload's expiry is counted from its last part's upload, not its initiation: an abandoned upload that received a part late outlives its expiry",
  },
  {
    name: 'upload-id-marker-ignored',
    breaks: 'SOS-F3',
    description:
      "ListMultipartUploads resumes after the key-marker's key whatever upload-id-marker says: a page ending inside one key's uploads skips the rest of them",
  },
  {
    name: 'compaction-numbers-by-count',
    breaks: 'SOS-F4',
    description:
      'after a restart the next data file number is the count of data files: with files compaction deleted, the next compaction output is the file appends go to, and a PUT after it is mapped at a stale offset',
  },
  {
    name: 'compaction-passes-overlap',
    breaks: 'SOS-F4',
    description:
      'a compaction asked for while one runs starts at once beside it: both rewrite the same file and the later one fails deleting it (500)',
  },
  {
    name: 'compaction-control-keeps-ratio',
    breaks: 'SOS-F4',
    description:
      "the compaction control compacts only files past the timer's garbage ratio (COMPACT_GARBAGE_RATIO), not every file holding garbage",
  },
  {
    name: 'compaction-batches-off-by-one',
    breaks: 'SOS-F4',
    description: 'a compaction asked to stop after N batches (?batches=N) runs N+1',
  },
  {
    name: 'complete-keeps-parts',
    breaks: 'SOS-F4',
    description:
      "completing a multipart upload never drops its parts' mapping entries: their bytes are never garbage and no compaction reclaims them",
  },
  {
    name: 'compaction-recomputes-crc',
    breaks: 'SOS-F2',
    description:
      'compaction stores the CRC-32 of the bytes it copies instead of the stored one: a damaged object is served with its flipped bytes after a compaction',
  },
  {
    name: 'compaction-keeps-file-open',
    breaks: 'SOS-F4',
    description:
      'compaction unlinks the old data file but never closes its descriptor: its blocks stay allocated, no space given back until the process exits',
  },
  {
    name: 'overwrite-read-unlocked',
    breaks: 'SOS-F4',
    description:
      "an overwrite reads the object it replaces before writing, without a lock: two PUTs of one key at once both drop the older object, and the first writer's bytes are never garbage (no compaction reclaims them)",
  },
  {
    name: 'compaction-output-roll-stale',
    breaks: 'SOS-F4',
    // Outputs roll only past DATA_FILE_BYTES: small files, so that a compaction in SOS-F4 fills one.
    env: { DATA_FILE_BYTES: '4194304' },
    description:
      "a compaction output that rolls over to a new file is chosen after the copies' offsets were taken from the old one: the moved objects are mapped past the new file's end (500)",
  },
  {
    name: 'compaction-busy-answers',
    breaks: 'SOS-F4',
    description:
      'a compaction asked for while one runs answers at once (files [], done true) instead of running its own pass after it: it answers before the garbage made before it was asked for is reclaimed',
  },
  {
    name: 'complete-drops-listed-only',
    breaks: 'SOS-F4',
    description:
      "completing a multipart upload drops only the listed parts' mapping entries: a part uploaded but left out of the list is never garbage and no compaction reclaims it",
  },
  {
    name: 'marker-garbage-kept',
    breaks: 'SOS-F4',
    description:
      'a delete marker added in a Suspended bucket removes the `null` object version it replaces but keeps its bytes mapped: no compaction reclaims them',
  },
  {
    name: 'restart-offset-from-mapping',
    breaks: 'SOS-F1',
    description:
      "after a restart appends are mapped from the end of the last file's last mapped object while their bytes go to the file's end: when the last file ended in garbage (the newest object deleted), new objects are mapped before their bytes (500)",
  },
] as const satisfies readonly { name: string; breaks: string; description: string; env?: Record<string, string> }[];
