// Merkle trees for anti-entropy (the book's "Handling permanent failures"): the keys two replicas share are hashed
// into buckets (the leaves); each inner node hashes its two children. Two replicas compare roots, then only the
// children that differ, down to the buckets that differ, and exchange only the keys in those buckets.
import { createHash } from 'node:crypto';
import { hash48 } from '../06-consistent-hashing/hash.ts';
import type { Version } from './clock.ts';

export const LEAVES = 256;

export function bucketOf(key: string): number {
  return hash48(key) % LEAVES;
}

/** The tree as a heap-ordered array: node i has children 2i+1 and 2i+2; the last LEAVES entries are the buckets. */
/** With `countsOnly` (the MUTANT merkle-counts-versions) a leaf hashes each key's number of versions, not its dots. */
export function buildTree(entries: Iterable<[string, Version[]]>, countsOnly = false): string[] {
  const buckets: string[][] = Array.from({ length: LEAVES }, () => []);
  for (const [key, versions] of entries) {
    const dots = versions
      .map((v) => v.dot)
      .sort()
      .join(',');
    buckets[bucketOf(key)]!.push(`${key}=${countsOnly ? versions.length : dots}`);
  }
  const tree = new Array<string>(2 * LEAVES - 1);
  for (let b = 0; b < LEAVES; b++) {
    const items = buckets[b]!.sort();
    tree[LEAVES - 1 + b] = items.length ? sha(items.join('\n')) : '';
  }
  for (let i = LEAVES - 2; i >= 0; i--) tree[i] = sha(`${tree[2 * i + 1]}|${tree[2 * i + 2]}`);
  return tree;
}

function sha(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/** The buckets whose hashes differ, found by descending only into differing subtrees. */
export function differingBuckets(a: string[], b: string[]): number[] {
  const out: number[] = [];
  const walk = (i: number) => {
    if (a[i] === b[i]) return;
    if (i >= LEAVES - 1) out.push(i - (LEAVES - 1));
    else {
      walk(2 * i + 1);
      walk(2 * i + 2);
    }
  };
  walk(0);
  return out;
}
