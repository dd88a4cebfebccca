// At start-up, before any request: mapping entries no metadata row names are dropped, so their bytes are garbage
// the next compaction reclaims. A PUT appends and maps its bytes before it commits the row that names them, and
// drops the replaced object's entry after that commit: a kill -9 between the two leaves an entry nothing will ever
// drop (the torn PUT's bytes, or the replaced object's). Nothing is in flight at start-up, so every entry a row
// will name is named now.
import type { DataStore } from './data-store.ts';
import type { MetaStore } from './metadata-store.ts';

export async function dropUnnamedEntries(data: DataStore, meta: MetaStore): Promise<number> {
  const named = await meta.namedObjectIds();
  let dropped = 0;
  for (const id of data.mappedIds()) {
    if (named.has(id)) continue;
    data.drop(id);
    dropped += 1;
  }
  return dropped;
}
