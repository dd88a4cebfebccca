// Deliberately broken variants of the reference, one check each (IDs from specs/25-s3-object-storage/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
import { CLUSTER_MUTANTS } from './mutants-cluster.ts';
import { FAULT_MUTANTS } from './mutants-faults.ts';
import { RACE_MUTANTS } from './mutants-races.ts';
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
  // From the blind bugs (fixtures/blind-bugs/25-s3-object-storage/): each was missed before its check was strengthened.
  {
    name: 'skew-one-sided',
    breaks: 'SOS-C5',
    description: 'only a clock behind is refused: a request signed 20 minutes in the future is accepted',
  },
  {
    name: 'empty-body-unhashed',
    breaks: 'SOS-C5',
    description: "the body's SHA-256 is compared only when a body arrived: a signed PUT emptied in transit is stored",
  },
  {
    name: 'crc-skipped-with-md5',
    breaks: 'SOS-C3',
    description: 'x-amz-checksum-crc32 is not compared when a Content-MD5 came too',
  },
  {
    name: 'key-limit-in-characters',
    breaks: 'SOS-C3',
    description: 'the 1,024 key limit counts UTF-16 code units, not UTF-8 bytes',
  },
  {
    name: 'last-modified-seconds',
    breaks: 'SOS-C3',
    description: 'Last-Modified is recorded in epoch seconds and read as milliseconds (January 1970)',
  },
  {
    name: 'object-id-from-content',
    breaks: 'SOS-C3',
    description: "an object's id is the MD5 of its bytes: two keys with the same bytes share one mapping entry",
  },
  {
    name: 'empty-objects-dont-count',
    breaks: 'SOS-C2',
    description: 'a bucket holding only zero-byte objects counts as empty and is deleted',
  },
  {
    name: 'full-page-truncated',
    breaks: 'SOS-C4',
    description: 'a page that is exactly full says IsTruncated with a token even when nothing follows',
  },
  {
    name: 'batch-repeats-last',
    breaks: 'SOS-C4',
    description: 'the store is read in batches of 500 and each next batch starts at the last key again (a duplicate)',
  },
  {
    name: 'scan-start-exclusive',
    breaks: 'SOS-C4',
    description: "the listing's scan starts after its start key: a key equal to the prefix is left out",
  },
  // Multipart upload (issue 19).
  {
    name: 'multipart-etag-whole-body',
    breaks: 'SOS-C6',
    description:
      "a completed multipart object's ETag is the MD5 of its whole body, not S3's MD5-of-the-parts' MD5s with -N",
  },
  {
    name: 'visible-before-complete',
    breaks: 'SOS-C6',
    description:
      'CreateMultipartUpload records an empty object under the key at once: the upload is visible before it completes',
  },
  {
    name: 'abort-keeps-parts',
    breaks: 'SOS-C7',
    description:
      'AbortMultipartUpload answers 204 but keeps the upload and its parts (still listed, still completable)',
  },
  {
    name: 'part-etag-unchecked',
    breaks: 'SOS-C7',
    description: "CompleteMultipartUpload matches parts by number only: an ETag that is not the part's is accepted",
  },
  {
    name: 'part-order-unchecked',
    breaks: 'SOS-C7',
    description: 'CompleteMultipartUpload accepts a part list out of ascending order (and sorts it)',
  },
  {
    name: 'small-part-accepted',
    breaks: 'SOS-C7',
    description: 'CompleteMultipartUpload never checks the minimum part size: a small part before the last is accepted',
  },
  {
    name: 'parts-in-upload-order',
    breaks: 'SOS-I4',
    description: 'a completed object is its parts in the order they were uploaded, not in part-number order',
  },
  {
    name: 'reupload-appended',
    breaks: 'SOS-I4',
    description: 'a part uploaded again under its number is appended to the earlier bytes instead of replacing them',
  },
  // Multipart blind bugs (fixtures/blind-bugs/25-s3-object-storage/, helper bb25m): each was missed before its check
  // was strengthened.
  {
    name: 'part-number-max-exclusive',
    breaks: 'SOS-C7',
    description: "UploadPart's upper bound is exclusive: part 10,000, the last S3 allows, is refused with 400",
  },
  {
    name: 'part-digest-unchecked',
    breaks: 'SOS-C7',
    description: "UploadPart never compares the request's Content-MD5 / x-amz-checksum-crc32: a damaged part is stored",
  },
  {
    name: 'duplicate-part-listed',
    breaks: 'SOS-C7',
    description: 'CompleteMultipartUpload accepts a part number listed twice (the object holds that part twice)',
  },
  {
    name: 'min-part-decimal',
    breaks: 'SOS-C7',
    description:
      "the default minimum part size is 5,000,000 bytes, not S3's 5 MiB: a part 1 byte under 5 MiB is accepted",
  },
  {
    name: 'upload-bucket-unchecked',
    breaks: 'SOS-C7',
    description:
      'an upload id is checked against the key but not the bucket: the same key in another bucket completes it',
  },
  {
    name: 'complete-not-atomic',
    breaks: 'SOS-C7',
    description:
      'complete records the object, then ends the upload whether or not it still exists: a racing abort (or second complete) succeeds too',
  },
  {
    name: 'parts-page-full-truncated',
    breaks: 'SOS-C6',
    description: 'a ListParts page that is exactly full says IsTruncated even when no part follows',
  },
  {
    name: 'parts-listed-unordered',
    breaks: 'SOS-C6',
    description: 'ListParts answers the parts in the order they were uploaded, not in part-number order',
  },
  {
    name: 'part-size-not-replaced',
    breaks: 'SOS-I4',
    description:
      'a part uploaded again keeps the size recorded for the earlier one (ListParts and EntityTooSmall see it)',
  },
  {
    name: 'part-replaced-any-upload',
    breaks: 'SOS-C7',
    description:
      "the part an UploadPart replaces is looked up by part number alone: another upload's part of that number loses its bytes (blind bug pg-replaced-part-any-upload)",
  },
  // From the StrykerJS sample (`sdgrade mutate 25 --seed 20261204`): each survived before its check was strengthened.
  {
    name: 'auth-comma-space-required',
    breaks: 'SOS-C5',
    description:
      'an Authorization header whose parameters are separated by "," alone (no space, as AWS documents it) is refused',
  },
  {
    name: 'part-number-prefix',
    breaks: 'SOS-C7',
    description: 'UploadPart reads only the leading digits of partNumber: "2x" is part 2, not 400 InvalidArgument',
  },
  {
    name: 'etag-quoted-only',
    breaks: 'SOS-C3',
    description: 'If-Match / If-None-Match compare the quoted ETag only: the bare MD5 hex is not taken as the ETag',
  },
  {
    name: 'etag-star-ignored',
    breaks: 'SOS-C3',
    description: 'If-Match / If-None-Match "*" is compared as an ETag: If-None-Match: * never answers 304',
  },
  // Versioning with delete markers (issue 19).
  {
    name: 'version-overwrites-bytes',
    breaks: 'SOS-C8',
    description:
      "a new version drops the bytes of the version it follows, as an overwrite would: the older version's GET fails",
  },
  {
    name: 'delete-marker-deletes',
    breaks: 'SOS-C8',
    description:
      'a DELETE without a versionId in a versioned bucket removes the current version for good instead of adding a delete marker',
  },
  {
    name: 'get-skips-marker',
    breaks: 'SOS-C8',
    description: 'a GET of a key whose newest version is a delete marker answers the version under it, not 404',
  },
  {
    name: 'versions-oldest-first',
    breaks: 'SOS-C8',
    description: "ListObjectVersions lists each key's versions oldest first",
  },
  {
    name: 'latest-not-promoted',
    breaks: 'SOS-I5',
    description:
      'deleting the newest version by id does not move IsLatest to the next one: ListObjectVersions shows no latest',
  },
  // From the versioning blind bugs (bb25v): each was missed before SOS-C8 was strengthened.
  {
    name: 'bucket-delete-current-only',
    breaks: 'SOS-C8',
    description:
      'DeleteBucket looks at current objects only: a bucket holding only noncurrent versions and markers is deleted',
  },
  {
    name: 'versions-truncated-when-full',
    breaks: 'SOS-C8',
    description: 'ListObjectVersions answers a page holding exactly max-keys remaining entries as truncated',
  },
  {
    name: 'key-marker-inclusive',
    breaks: 'SOS-C8',
    description:
      "ListObjectVersions with key-marker and no version-id-marker lists the key-marker's own versions again",
  },
  {
    name: 'suspend-skips-nulls',
    breaks: 'SOS-C8',
    description:
      'Suspended set first on a bucket never versioned does not make its objects `null` versions (they read 404)',
  },
  {
    name: 'reenable-recopies-nulls',
    breaks: 'SOS-C8',
    description:
      'Enabled set after Suspended copies the objects in as `null` versions again: PutBucketVersioning fails 500',
  },
  {
    name: 'null-version-unversioned-404',
    breaks: 'SOS-C8',
    description: 'GET ?versionId=null in a bucket never versioned answers 404 NoSuchVersion instead of the object',
  },
  {
    name: 'versioning-outlives-bucket',
    breaks: 'SOS-C8',
    description: "a bucket deleted and created again under its name keeps the earlier bucket's versioning",
  },
  {
    name: 'suspended-null-any-key',
    breaks: 'SOS-C8',
    description: 'a suspended PUT removes the `null` version of every key of the bucket, not only its own',
  },
  {
    name: 'version-id-any-key',
    breaks: 'SOS-C8',
    description: "a version looked up by id ignores the key: another key's version id reads that key's version",
  },
  // ListObjectVersions' delimiter and encoding-type=url (issue 19).
  {
    name: 'versions-prefix-per-version',
    breaks: 'SOS-C8',
    description:
      'ListObjectVersions with a delimiter answers each common prefix once, yet counts every version under it toward max-keys',
  },
  {
    name: 'versions-prefix-relisted',
    breaks: 'SOS-C8',
    description:
      'ListObjectVersions resumed at NextKeyMarker = a common prefix answers that common prefix again on the next page',
  },
  {
    name: 'versions-prefix-unencoded',
    breaks: 'SOS-C8',
    description: "ListObjectVersions with encoding-type=url leaves CommonPrefixes' Prefix unencoded",
  },
  {
    name: 'versions-prefix-marker-key',
    breaks: 'SOS-C8',
    description:
      'a ListObjectVersions page ending on a common prefix answers NextKeyMarker / NextVersionIdMarker = the first version under it, not the prefix',
  },
  {
    name: 'versions-next-marker-unencoded',
    breaks: 'SOS-C8',
    description: 'ListObjectVersions with encoding-type=url leaves NextKeyMarker unencoded',
  },
  {
    name: 'list-key-unencoded',
    breaks: 'SOS-C4',
    description: "ListObjectsV2 with encoding-type=url leaves each Contents' Key unencoded",
  },
  {
    name: 'list-plus-unencoded',
    breaks: 'SOS-C9',
    description:
      "ListObjectsV2 with encoding-type=url encodes Keys with encodeURI's set, leaving `+` as it is: boto3, which always asks for url encoding and reads `+` as a space, lists a key that does not exist",
  },
  {
    name: 'list-start-after-unencoded',
    breaks: 'SOS-C4',
    description: 'ListObjectsV2 with encoding-type=url echoes StartAfter unencoded',
  },
  {
    name: 'versions-encoding-unchecked',
    breaks: 'SOS-C8',
    description: 'ListObjectVersions takes an encoding-type other than url (200, fields unencoded) instead of 400',
  },
  {
    name: 'null-versions-key-marker-inclusive',
    breaks: 'SOS-C8',
    description: "on a bucket never versioned, ListObjectVersions' key-marker lists that key's null version again",
  },
  {
    name: 'versions-prefix-per-batch',
    breaks: 'SOS-C8',
    description:
      'ListObjectVersions forgets the common prefix it rolls up at each batch read from the store, answering it twice',
  },
  {
    name: 'suspended-null-in-place',
    breaks: 'SOS-C8',
    description:
      'a Suspended PUT or DELETE puts the new `null` version where the old one was, under the versions Enabled added since',
  },
  {
    name: 'null-id-marker-skips-key',
    breaks: 'SOS-C8',
    description:
      "ListObjectVersions takes version-id-marker=null as no version marker, so a page ending on a `null` version resumes after the key's older versions",
  },
  {
    name: 'complete-version-id-unsent',
    breaks: 'SOS-C8',
    description:
      'CompleteMultipartUpload in a versioned bucket makes and lists the version but answers no x-amz-version-id (the SDK reads no VersionId)',
  },
  ...RACE_MUTANTS,
  ...FAULT_MUTANTS,
  ...CLUSTER_MUTANTS,
] as const satisfies readonly {
  name: string;
  breaks: string;
  description: string;
  env?: Record<string, string>;
  needs?: readonly string[];
}[];

/**
 * Mutants only a load shows: each request alone is answered right, so every check passes; concurrent requests are
 * not. The k6 load's body checks (SOS-T3) catch them: harness/chapters/25-s3-object-storage/load.test.ts runs the
 * smoke script against each and expects failed body checks (the mutants self-test of the checks does not run them).
 */
export const LOAD_MUTANTS = [
  {
    name: 'read-buffer-reused',
    breaks: 'SOS-T3',
    description:
      "GETs read asynchronously into one buffer shared by every GET: while one awaits its read, a concurrent GET of another object reads into the same bytes (a 500 from the CRC, or another object's bytes)",
  },
] as const satisfies readonly { name: string; breaks: string; description: string }[];

export type MutantName = (typeof MUTANTS)[number]['name'] | (typeof LOAD_MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = [...MUTANTS, ...LOAD_MUTANTS].map((m) => m.name);
