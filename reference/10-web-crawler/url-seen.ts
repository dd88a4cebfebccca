// The URL-seen Bloom filter's settings, one place for the crawler and its micro-benchmark: sized for a million URLs
// at 1% false positives (bloom-filters picks the bit count and hash count from them).
import BloomFilters from 'bloom-filters';

const { BloomFilter } = BloomFilters;

/** The Bloom filter's false-positive rate; a positive is confirmed against the stored seen set. */
export const BLOOM_ERROR_RATE = 0.01;
/** URLs the filter is sized for. */
export const BLOOM_CAPACITY = 1_000_000;

export type UrlSeenFilter = InstanceType<typeof BloomFilter>;

/** A fresh URL-seen filter (capacity and rate as the crawler uses them unless given). */
export function newUrlSeenFilter(capacity = BLOOM_CAPACITY, errorRate = BLOOM_ERROR_RATE): UrlSeenFilter {
  return BloomFilter.create(capacity, errorRate);
}
