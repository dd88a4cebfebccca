// ListObjectVersions' page over the store's versions (keys in byte order, each key's newest first): keys that hold
// the delimiter after the prefix roll up into common prefixes, as ListObjectsV2 does (listing.ts), each counted once
// toward max-keys; a common prefix at or before key-marker was answered on an earlier page and is not answered again.
import { commonPrefixOf, startsWith } from './listing.ts';
import type { VersionRow } from './metadata-store.ts';

/** A common prefix keeps the first version rolled into it (the MUTANT versions-prefix-marker-key answers its key). */
export type VersionEntry = { kind: 'version'; row: VersionRow } | { kind: 'prefix'; prefix: Buffer; first: VersionRow };

export interface VersionsInput {
  prefix: Buffer;
  delimiter: Buffer | undefined;
  maxKeys: number;
  /** Where the scan starts: versions after (key, seq). */
  after: { key: Buffer; seq: number };
  /** The request's key-marker: common prefixes up to it were listed before. */
  keyMarker: Buffer | undefined;
  /** MUTANT versions-truncated-when-full: a page exactly full says there is more. */
  fullPageTruncated?: boolean;
  /** MUTANT versions-prefix-per-version: every version under a common prefix counts toward max-keys. */
  prefixPerVersion?: boolean;
  /** MUTANT versions-prefix-relisted: a common prefix equal to key-marker is answered again. */
  prefixRelisted?: boolean;
  /** MUTANT versions-prefix-per-batch: the common prefix being rolled up is forgotten at each batch of the store. */
  prefixPerBatch?: boolean;
}

export interface VersionsPage {
  entries: VersionEntry[];
  /** The page's last entry when the listing is truncated: NextKeyMarker (and NextVersionIdMarker for a version). */
  next: VersionEntry | undefined;
}

const BATCH = 500;

export async function versionsPageOf(
  fetch: (after: { key: Buffer; seq: number }, limit: number) => Promise<VersionRow[]>,
  o: VersionsInput,
): Promise<VersionsPage> {
  const entries: VersionEntry[] = [];
  if (o.maxKeys === 0) return { entries, next: undefined };
  let after = o.after;
  let counted = 0;
  let lastPrefix: Buffer | undefined;
  for (;;) {
    const rows = await fetch(after, BATCH);
    if (o.prefixPerBatch) lastPrefix = undefined;
    for (const row of rows) {
      after = { key: row.key, seq: row.seq };
      // Keys under a prefix are contiguous in byte order: the first key past them ends the listing.
      if (!startsWith(row.key, o.prefix)) return { entries, next: undefined };
      const rolled = commonPrefixOf(row.key, o.prefix, o.delimiter);
      let entry: VersionEntry = { kind: 'version', row };
      if (rolled) {
        if (lastPrefix?.equals(rolled) && !o.prefixPerVersion) continue;
        const behind = o.keyMarker && Buffer.compare(rolled, o.keyMarker) < (o.prefixRelisted ? 0 : 1);
        if (behind) continue;
        if (lastPrefix?.equals(rolled)) {
          // The mutant's count: the version is not answered, yet takes a place on the page.
          if (counted === o.maxKeys) return { entries, next: entries.at(-1) };
          counted++;
          continue;
        }
        entry = { kind: 'prefix', prefix: rolled, first: row };
        lastPrefix = rolled;
      }
      if (counted === o.maxKeys) return { entries, next: entries.at(-1) };
      entries.push(entry);
      counted++;
      if (o.fullPageTruncated && counted === o.maxKeys) return { entries, next: entry };
    }
    if (rows.length < BATCH) return { entries, next: undefined };
  }
}
