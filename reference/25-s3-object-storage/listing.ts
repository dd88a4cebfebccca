// ListObjectsV2 over the metadata store's ordered keys: prefix, delimiter roll-up into common prefixes, pages of
// max-keys entries, and continuation tokens that say where the last page ended (a key, or a common prefix whose
// keys are all behind us).
import type { ObjectRow } from './metadata-store.ts';

export interface ListInput {
  prefix: Buffer;
  delimiter: Buffer | undefined;
  maxKeys: number;
  /** Resume after this key, or after every key under this common prefix. */
  after: { key: Buffer; isPrefix: boolean } | undefined;
  /** MUTANT page-boundary-skip: the token names the entry after the page, which the next page then skips. */
  skipAtBoundary?: boolean;
  /** MUTANT full-page-truncated: a page that is exactly full says there is more. */
  fullPageTruncated?: boolean;
  /** MUTANT batch-repeats-last: each next batch starts at the last key again, not just past it. */
  batchRepeatsLast?: boolean;
  /** MUTANT scan-start-exclusive: the scan leaves out a key equal to its start. */
  scanStartExclusive?: boolean;
}

export type Entry = { kind: 'object'; row: ObjectRow } | { kind: 'prefix'; prefix: Buffer };

export interface ListPage {
  entries: Entry[];
  /** Where the next page resumes, when the listing is truncated. */
  next: { key: Buffer; isPrefix: boolean } | undefined;
}

/** Reads the store in batches; the next batch starts at the smallest key after the last one (its bytes + 0x00). */
async function* rowsFrom(
  page: (start: Buffer, limit: number) => Promise<ObjectRow[]>,
  start: Buffer,
  o: ListInput,
): AsyncGenerator<ObjectRow> {
  let from = start;
  for (;;) {
    const rows = await page(from, BATCH);
    yield* o.scanStartExclusive ? rows.filter((r) => !r.key.equals(start)) : rows;
    if (rows.length < BATCH) return;
    from = o.batchRepeatsLast ? rows.at(-1)!.key : Buffer.concat([rows.at(-1)!.key, Buffer.from([0])]);
  }
}

const BATCH = 500;

export async function listPage(
  page: (start: Buffer, limit: number) => Promise<ObjectRow[]>,
  o: ListInput,
): Promise<ListPage> {
  const entries: Entry[] = [];
  if (o.maxKeys === 0) return { entries, next: undefined };
  const start = o.after && Buffer.compare(o.after.key, o.prefix) > 0 ? o.after.key : o.prefix;
  let lastPrefix = o.after?.isPrefix ? o.after.key : undefined;
  let overflow: Entry | undefined;
  for await (const row of rowsFrom(page, start, o)) {
    const key = row.key;
    // Keys under a prefix are contiguous in byte order: the first key past them ends the listing.
    if (!startsWith(key, o.prefix)) break;
    if (o.after && Buffer.compare(key, o.after.key) <= 0) continue;
    if (lastPrefix && startsWith(key, lastPrefix)) continue;
    let entry: Entry = { kind: 'object', row };
    const rolled = commonPrefixOf(key, o.prefix, o.delimiter);
    if (rolled) {
      entry = { kind: 'prefix', prefix: rolled };
      lastPrefix = rolled;
    }
    if (entries.length === o.maxKeys) {
      overflow = entry;
      break;
    }
    entries.push(entry);
    if (o.fullPageTruncated && entries.length === o.maxKeys) {
      overflow = entry;
      break;
    }
  }
  if (!overflow) return { entries, next: undefined };
  const boundary = o.skipAtBoundary ? overflow : entries.at(-1)!;
  return {
    entries,
    next:
      boundary.kind === 'prefix'
        ? { key: boundary.prefix, isPrefix: true }
        : { key: boundary.row.key, isPrefix: false },
  };
}

/** The common prefix a key rolls up into: up to the first delimiter after the prefix; none without one. */
export function commonPrefixOf(key: Buffer, prefix: Buffer, delimiter: Buffer | undefined): Buffer | undefined {
  if (!delimiter || delimiter.length === 0) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at >= 0 ? key.subarray(0, at + delimiter.length) : undefined;
}

export function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.subarray(0, prefix.length).equals(prefix);
}

/** Opaque to clients: base64url of a flag byte (1: a common prefix) and the marker's bytes. */
export function encodeToken(next: { key: Buffer; isPrefix: boolean }): string {
  return Buffer.concat([Buffer.from([next.isPrefix ? 1 : 0]), next.key]).toString('base64url');
}

export function decodeToken(token: string): { key: Buffer; isPrefix: boolean } | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < 1 || bytes[0]! > 1) return undefined;
  return { key: bytes.subarray(1), isPrefix: bytes[0] === 1 };
}
