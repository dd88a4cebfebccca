// An SSTable (Sorted String Table): one key's sibling set per line, sorted by key, written once and never changed.
// Beside it, `.meta.json` holds a sparse index (every 16th key and its byte offset) and the Bloom filter; the meta
// file is written last (through a rename), so a table without one is a crash mid-flush and is ignored.
// Read path: Bloom filter -> sparse index -> read one block from disk -> scan its lines.
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import type { Version } from '../clock.ts';
import { BloomFilter } from './bloom.ts';

const INDEX_EVERY = 16;

interface Meta {
  count: number;
  dataBytes: number;
  index: [string, number][];
  bloomK: number;
  bloom: string;
}

export interface ReadStats {
  bloomNegatives: number;
  blockReads: number;
  falsePositives: number;
}

export class SSTable {
  private fd: number;
  private constructor(
    readonly path: string,
    readonly generation: number,
    private readonly meta: Meta,
    private readonly bloom: BloomFilter | null,
    /** MUTANT index-misses-block-start: the index search takes a block's first key for the block before. */
    private readonly missBlockStart = false,
  ) {
    this.fd = openSync(`${path}.data`, 'r');
  }

  get count(): number {
    return this.meta.count;
  }

  get bytes(): number {
    return this.meta.dataBytes;
  }

  static exists(path: string): boolean {
    return existsSync(`${path}.meta.json`) && existsSync(`${path}.data`);
  }

  /** Writes the sorted entries; answers the bytes written (data and meta), for write amplification. */
  static write(path: string, entries: Iterable<[string, Version[]]>, localeOrder = false): number {
    // MUTANT sstable-sorted-by-locale: sorted by localeCompare, searched by code unit.
    const sorted = [...entries].sort((a, b) =>
      localeOrder ? a[0].localeCompare(b[0]) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
    );
    const bloom = BloomFilter.forKeys(sorted.length);
    const index: [string, number][] = [];
    const chunks: Buffer[] = [];
    let offset = 0;
    sorted.forEach(([key, versions], i) => {
      if (i % INDEX_EVERY === 0) index.push([key, offset]);
      bloom.add(key);
      const b = Buffer.from(`${JSON.stringify([key, versions])}\n`);
      chunks.push(b);
      offset += b.length;
    });
    writeFileSync(`${path}.data`, Buffer.concat(chunks));
    const meta: Meta = { count: sorted.length, dataBytes: offset, index, bloomK: bloom.k, bloom: bloom.toBase64() };
    const metaText = JSON.stringify(meta);
    writeFileSync(`${path}.meta.json.tmp`, metaText);
    renameSync(`${path}.meta.json.tmp`, `${path}.meta.json`);
    return offset + metaText.length;
  }

  static open(path: string, generation: number, o: { bloom: boolean; missBlockStart?: boolean }): SSTable {
    const meta = JSON.parse(readFileSync(`${path}.meta.json`, 'utf8')) as Meta;
    const bloom = o.bloom ? BloomFilter.fromBase64(meta.bloomK, meta.bloom) : null;
    return new SSTable(path, generation, meta, bloom, o.missBlockStart);
  }

  get(key: string, stats: ReadStats): Version[] | undefined {
    if (this.bloom && !this.bloom.mightContain(key)) {
      stats.bloomNegatives++;
      return undefined;
    }
    const idx = this.meta.index;
    let lo = 0;
    let hi = idx.length - 1;
    if (hi < 0 || key < idx[0]![0]) {
      if (this.bloom) stats.falsePositives++;
      return undefined;
    }
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.missBlockStart ? idx[mid]![0] < key : idx[mid]![0] <= key) lo = mid;
      else hi = mid - 1;
    }
    const start = idx[lo]![1];
    const end = lo + 1 < idx.length ? idx[lo + 1]![1] : this.meta.dataBytes;
    const buf = Buffer.alloc(end - start);
    readSync(this.fd, buf, 0, buf.length, start);
    stats.blockReads++;
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line) continue;
      const [k, versions] = JSON.parse(line) as [string, Version[]];
      if (k === key) return versions;
    }
    if (this.bloom) stats.falsePositives++;
    return undefined;
  }

  *entries(): Generator<[string, Version[]]> {
    const text = readFileSync(`${this.path}.data`, 'utf8');
    for (const line of text.split('\n')) if (line) yield JSON.parse(line) as [string, Version[]];
  }

  close(): void {
    closeSync(this.fd);
  }

  remove(): void {
    this.close();
    for (const f of [`${this.path}.meta.json`, `${this.path}.data`]) if (existsSync(f)) unlinkSync(f);
  }
}
