// The book's message filtering, done by the broker: a fetch that names tags answers only the messages carrying one
// of them, and a next offset past the ones it skipped, so a consumer neither receives nor re-reads them. A filtered
// long poll waits for a matching message: appends that do not match are skipped and the wait goes on.
import { setTimeout as delay } from 'node:timers/promises';
import type { FilteredRead, PartitionLog } from './partition-log.ts';
import type { LogRecord } from './record.ts';

/** How often a waiting filtered fetch looks again while appended records wait for the high watermark. */
const HW_POLL_MS = 50;

export type TagMatcher = (tags: readonly string[] | null) => boolean;

/** The fetch's `tags` (comma-separated, validated by the spec) as a matcher: any of them, or all for the mutant. */
export function tagMatcher(query: string, matchAll = false, ignoreCase = false): TagMatcher {
  const wanted = new Set(query.split(','));
  // MUTANT tags-match-all: a message must carry every tag named, not one of them.
  if (matchAll) return (tags) => [...wanted].every((t) => (tags ?? []).includes(t));
  // MUTANT tags-match-ignores-case: `paid` also matches `Paid` and `PAID`.
  if (ignoreCase) {
    const lower = new Set([...wanted].map((t) => t.toLowerCase()));
    return (tags) => (tags ?? []).some((t) => lower.has(t.toLowerCase()));
  }
  return (tags) => (tags ?? []).some((t) => wanted.has(t));
}

export interface FilteredFetch {
  log: PartitionLog;
  offset: number;
  maxBytes: number;
  maxWait: number;
  matches: TagMatcher;
  /** The end of what consumers may read now (the high watermark with replicas). */
  visibleEnd: () => number;
  signal: AbortSignal;
  /** MUTANT tags-limit-before-filter: maxBytes bounds the records read, and the filter runs on those. */
  limitBeforeFilter?: boolean;
  /** MUTANT tags-next-offset-at-last-match: nextOffset stops after the last match, not past the records skipped. */
  nextAtLastMatch?: boolean;
  /** MUTANT tags-read-past-high-watermark: the look goes to the log's end, past the high watermark. */
  pastHighWatermark?: boolean;
}

function readOnce(f: FilteredFetch, at: number, end: number): FilteredRead {
  if (!f.limitBeforeFilter)
    return f.log.readFiltered(at, f.pastHighWatermark ? f.log.endOffset : end, f.maxBytes, f.matches);
  const read = f.log.read(at, f.maxBytes).filter((r) => r.offset < end);
  return { records: read.filter((r) => f.matches(r.tags ?? null)), nextOffset: at + read.length };
}

/** The matching records from `offset` on and the next offset; waits up to maxWait when none is there yet. */
export async function fetchFiltered(f: FilteredFetch): Promise<{ records: LogRecord[]; nextOffset: number }> {
  const deadline = Date.now() + f.maxWait;
  let at = f.offset;
  for (;;) {
    const end = f.visibleEnd();
    const found = readOnce(f, at, end);
    at = found.nextOffset;
    // Something matched, or the look stopped short of the end (maxBytes, the scan limit, a damaged record): answer.
    if (found.records.length > 0 || at < end || f.signal.aborted || Date.now() >= deadline) {
      const nextOffset = f.nextAtLastMatch ? (found.records.at(-1)?.offset ?? f.offset - 1) + 1 : at;
      return { records: found.records, nextOffset: Math.max(nextOffset, f.offset) };
    }
    // Nothing up to the end carries a tag asked for: wait for the next append, then look at what it added. Records
    // appended but not yet below the high watermark (a cluster) wake nobody when it passes them: look again shortly.
    const left = deadline - Date.now();
    if (f.log.endOffset > end) await delay(Math.min(left, HW_POLL_MS), undefined, { signal: f.signal }).catch(() => {});
    else await f.log.waitForAppend(left, f.signal);
  }
}
