// One node's storage engine, the book's write and read paths (an LSM tree):
//   write: commit log (append) -> memtable -> when the memtable is full, flush it to a new SSTable
//   read:  memtable -> SSTables newest first, each behind its Bloom filter
// A key's record is its whole sibling set, so the newest record of a key is its state; compaction keeps the newest.
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type MergeMode, merge, type Version } from '../clock.ts';
import { CommitLog } from './commit-log.ts';
import { type ReadStats, SSTable } from './sstable.ts';

export interface EngineOptions {
  dir: string;
  /** Flush the memtable to an SSTable once its records hold about this many bytes. */
  memtableBytes?: number;
  /** Compact every SSTable into one when there are more than this many. */
  maxTables?: number;
  bloom?: boolean;
  fsync?: boolean;
  /** MUTANT ack-before-commit-log: the log is written lazily, after the acknowledgement. */
  lazyCommitLog?: boolean;
  mergeMode?: MergeMode;
  /** MUTANT siblings-lost-on-replay: a replayed key keeps only its last logged version, not the merge of them. */
  replayLastOnly?: boolean;
  /** MUTANT sstables-oldest-first: the read path searches SSTables oldest first. */
  oldestTableFirst?: boolean;
  /** MUTANT sstables-forgotten-on-start: a restart loads no SSTable, so what was flushed before it is gone. */
  forgetTablesOnStart?: boolean;
  /** MUTANT index-misses-block-start: an SSTable read misses every key that starts an index block. */
  missBlockStart?: boolean;
  /** MUTANT flush-generation-counts-down: flush() numbers SSTables downwards, onto files written before a restart. */
  generationCountsDown?: boolean;
  /** MUTANT sstable-sorted-by-locale: SSTables sorted by localeCompare, searched by code unit. */
  localeOrder?: boolean;
}

export interface EngineStats extends ReadStats {
  memtableKeys: number;
  sstables: number;
  userBytes: number;
  commitLogBytes: number;
  sstableBytes: number;
  flushes: number;
  compactions: number;
}

export class StorageEngine {
  private memtable = new Map<string, Version[]>();
  private memBytes = 0;
  /** Newest last. */
  private tables: SSTable[] = [];
  private log: CommitLog;
  private nextTable = 1;
  readonly stats = {
    bloomNegatives: 0,
    blockReads: 0,
    falsePositives: 0,
    userBytes: 0,
    sstableBytes: 0,
    flushes: 0,
    compactions: 0,
  };
  private readonly o: Required<EngineOptions>;

  constructor(options: EngineOptions) {
    this.o = {
      memtableBytes: 4 * 1024 * 1024,
      maxTables: 4,
      bloom: true,
      fsync: false,
      lazyCommitLog: false,
      mergeMode: 'dots',
      replayLastOnly: false,
      oldestTableFirst: false,
      forgetTablesOnStart: false,
      missBlockStart: false,
      generationCountsDown: false,
      localeOrder: false,
      ...options,
    };
    const dir = this.o.dir;
    mkdirSync(dir, { recursive: true });
    // SSTables that finished (meta written); a data file without meta is a flush cut short by a crash.
    const gens = readdirSync(dir)
      .map((f) => /^sst-(\d+)\.data$/.exec(f)?.[1])
      .filter((g): g is string => g !== undefined && !this.o.forgetTablesOnStart)
      .map(Number)
      .sort((a, b) => a - b);
    for (const g of gens) {
      const path = this.tablePath(g);
      if (SSTable.exists(path)) this.tables.push(SSTable.open(path, g, this.tableOptions()));
      else unlinkSync(`${path}.data`);
      this.nextTable = Math.max(this.nextTable, g + 1);
    }
    // Replay every commit-log segment not yet flushed into the memtable, then continue in a new segment.
    const segments = CommitLog.segments(dir);
    for (const gen of segments)
      for (const e of CommitLog.replay(dir, gen))
        this.toMemtable(e.k, this.o.replayLastOnly ? [e.v] : merge(this.get(e.k) ?? [], e.v, this.o.mergeMode));
    const last = segments.at(-1) ?? 0;
    this.log = new CommitLog(dir, last + 1, { fsync: this.o.fsync, lazy: this.o.lazyCommitLog });
    // Old segments now live in the memtable and the new segment gets only new writes: flush them out at once.
    if (segments.length) this.flush(segments);
  }

  private tablePath(gen: number): string {
    return join(this.o.dir, `sst-${String(gen).padStart(8, '0')}`);
  }

  private tableOptions() {
    return { bloom: this.o.bloom, missBlockStart: this.o.missBlockStart };
  }

  get(key: string): Version[] | undefined {
    const m = this.memtable.get(key);
    if (m) return m;
    const n = this.tables.length;
    for (let i = n - 1; i >= 0; i--) {
      const v = this.tables[this.o.oldestTableFirst ? n - 1 - i : i]!.get(key, this.stats);
      if (v) return v;
    }
    return undefined;
  }

  /** Merges one version into the key's siblings: commit log first, then the memtable. Answers the new siblings. */
  apply(key: string, v: Version): { siblings: Version[]; changed: boolean } {
    const before = this.get(key) ?? [];
    const after = merge(before, v, this.o.mergeMode);
    if (after === before) return { siblings: before, changed: false };
    this.log.append({ k: key, v });
    this.stats.userBytes += key.length + (v.value?.length ?? 0);
    this.toMemtable(key, after);
    if (this.memBytes >= this.o.memtableBytes) this.flush([]);
    return { siblings: after, changed: true };
  }

  private toMemtable(key: string, versions: Version[]): void {
    const old = this.memtable.get(key);
    if (old) this.memBytes -= recordBytes(key, old);
    this.memtable.set(key, versions);
    this.memBytes += recordBytes(key, versions);
  }

  /** Memtable -> new SSTable; then the commit-log segments it covered are deleted. */
  flush(oldSegments: number[]): void {
    if (this.memtable.size === 0) {
      for (const g of oldSegments) this.log.drop(g);
      return;
    }
    const covered = [...oldSegments, this.log.generation];
    this.log.rotate();
    // MUTANT flush-generation-counts-down: a second flush in one life reuses an older SSTable's generation.
    const gen = this.o.generationCountsDown ? this.nextTable-- : this.nextTable++;
    this.stats.sstableBytes += SSTable.write(this.tablePath(gen), this.memtable, this.o.localeOrder);
    this.tables.push(SSTable.open(this.tablePath(gen), gen, this.tableOptions()));
    this.stats.flushes++;
    this.memtable = new Map();
    this.memBytes = 0;
    for (const g of covered) this.log.drop(g);
    if (this.tables.length > this.o.maxTables) this.compact();
  }

  /** Size-tiered compaction, simplest form: every SSTable into one, the newest record of each key wins. */
  private compact(): void {
    const merged = new Map<string, Version[]>();
    for (const t of this.tables) for (const [k, v] of t.entries()) merged.set(k, v);
    const gen = this.nextTable++;
    this.stats.sstableBytes += SSTable.write(this.tablePath(gen), merged, this.o.localeOrder);
    const old = this.tables;
    this.tables = [SSTable.open(this.tablePath(gen), gen, this.tableOptions())];
    for (const t of old) t.remove();
    this.stats.compactions++;
  }

  /** Every key and its siblings (for the Merkle tree); newest record wins. */
  snapshot(): Map<string, Version[]> {
    const all = new Map<string, Version[]>();
    for (const t of this.tables) for (const [k, v] of t.entries()) all.set(k, v);
    for (const [k, v] of this.memtable) all.set(k, v);
    return all;
  }

  engineStats(): EngineStats {
    return {
      ...this.stats,
      memtableKeys: this.memtable.size,
      sstables: this.tables.length,
      commitLogBytes: this.log.bytesWritten,
    };
  }

  /** Bytes written to disk (commit log, SSTables, compactions) per byte of keys and values written by clients. */
  writeAmplification(): number {
    return this.stats.userBytes === 0 ? 0 : (this.log.bytesWritten + this.stats.sstableBytes) / this.stats.userBytes;
  }

  close(): void {
    this.log.close();
    for (const t of this.tables) t.close();
  }
}

function recordBytes(key: string, versions: Version[]): number {
  let n = key.length + 32;
  for (const v of versions) n += (v.value?.length ?? 0) + 64;
  return n;
}
