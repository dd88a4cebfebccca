// Deliberately broken variants of the reference, one check each (IDs from specs/25-s3-object-storage/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
export const MUTANTS = [
  {
    name: 'health-plain-text',
    breaks: 'SOS-C1',
    description: 'readiness answers text/plain "ok", not the Health body',
  },
  {
    name: 'bucket-recreated',
    breaks: 'SOS-C2',
    description: 'creating a bucket that exists answers 200 and empties it, instead of 409 BucketAlreadyOwnedByYou',
  },
  {
    name: 'range-end-exclusive',
    breaks: 'SOS-C3',
    description: 'a range bytes=a-b returns a..b-1 (the last byte of an inclusive range is left out)',
  },
  {
    name: 'max-keys-ignored',
    breaks: 'SOS-C4',
    description: 'ListObjectsV2 ignores max-keys and answers up to 1,000 entries a page',
  },
  {
    name: 'signature-not-checked',
    breaks: 'SOS-C5',
    description: 'a known access key is enough: the SigV4 signature itself is never compared',
  },
  {
    name: 'binary-as-utf8',
    breaks: 'SOS-I1',
    description: 'a PUT body is decoded as UTF-8 text and encoded again: bytes that are not UTF-8 are changed',
  },
  {
    name: 'page-boundary-skip',
    breaks: 'SOS-I2',
    description: 'the continuation token names the first entry of the next page, which the next page then skips',
  },
  {
    name: 'torn-overwrite',
    breaks: 'SOS-I3',
    description:
      "an object's place and its size/ETag are written in two steps with a wait between: concurrent overwrites mix writers",
  },
  {
    name: 'ack-before-durable',
    breaks: 'SOS-F1',
    description: 'PUT answers before the metadata is written (3 s later): a kill -9 loses acknowledged objects',
  },
  {
    name: 'checksum-not-verified',
    breaks: 'SOS-F2',
    description: "an object's CRC-32 is not checked on read: a flipped bit on disk is served as data",
  },
] as const satisfies readonly { name: string; breaks: string; description: string }[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
