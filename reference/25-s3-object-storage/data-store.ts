// The book's data node: objects appended to large WAL-style files (data/NNNNNN.dat, a new file once one reaches
// `fileBytes`), and an object mapping table in the node's own SQLite (object_id -> file, offset, size, CRC-32).
// Every read checks the object's CRC-32, so a flipped bit on disk is an error, never served bytes. Garbage (bytes no
// mapping entry names) is reclaimed by compaction (compactFile, driven by compaction.ts).
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  read,
  readdirSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';

/** Thrown when an object's stored bytes fail their checksum: the API answers 500, never the bytes. */
export class ChecksumError extends Error {}

/** A data file: its size on disk and the bytes its mapping entries name (the rest is garbage). */
export interface FileUsage {
  name: string;
  size: number;
  live: number;
}

interface Entry {
  objectId: string;
  offset: number;
  size: number;
  crc: number;
}

/** At most this many bytes copied per compaction batch (always at least one entry). */
const BATCH_BYTES = 8 * 1024 * 1024;

export type CompactionMutant =
  | 'compaction-drops-live-object'
  | 'compaction-maps-before-copy'
  | 'compaction-keeps-garbage'
  | 'compaction-numbers-by-count'
  | 'compaction-recomputes-crc'
  | 'compaction-batches-off-by-one'
  | 'compaction-keeps-file-open'
  | 'compaction-output-roll-stale';

interface FileHandle {
  name: string;
  fd: number;
  size: number;
}

/** Where a compaction pass writes its copies: one file, a new one once it reaches `fileBytes`. */
export interface CompactionOutput {
  file?: FileHandle;
}

/** Where an object's bytes are: a data file, and the entry's place, size and CRC-32 in it. */
type Mapping = Omit<Entry, 'objectId'> & { file: string };

export interface DataStoreOptions {
  /** Roll to a new data file once the current one is this large. */
  fileBytes: number;
  /** MUTANT checksum-not-verified: false serves bytes without checking their CRC-32. */
  verifyChecksum: boolean;
  /** MUTANT range-read-unchecked: a range reads only its slice, unchecked. */
  rangeUnchecked?: boolean;
  /** MUTANT object-id-from-content: a mapping entry for an id already mapped replaces it. */
  replaceMapping?: boolean;
  /** MUTANT restart-offset-from-mapping: after a restart, appends mapped from the last mapped object's end. */
  offsetFromMapping?: boolean;
  /** MUTANT compaction-*: every name of CompactionMutant (main.ts passes MUTANT=compaction-... here). */
  compactionMutant?: CompactionMutant | undefined;
}

export class DataStore {
  private readonly dir: string;
  private readonly db: Database.Database;
  private readonly fds = new Map<string, number>();
  private current: FileHandle;
  private readonly insert: Database.Statement;
  private readonly lookup: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly liveByFile: Database.Statement;
  private readonly entriesIn: Database.Statement;
  private readonly countIn: Database.Statement;
  private readonly move: Database.Statement;
  /** MUTANT compaction-recomputes-crc: a moved entry's CRC-32 set from the bytes copied. */
  private readonly setCrc: Database.Statement;
  /** The highest data file number in use: new files (appends rolling over, compaction outputs) take the next. */
  private highest: number;
  /** MUTANT compaction-maps-before-copy: the copies still to be written, in order. */
  private deferred: Promise<void> = Promise.resolve();
  /** MUTANT read-buffer-reused: the one buffer every GET reads into. */
  private shared = Buffer.alloc(0);

  constructor(
    dataDir: string,
    private readonly options: DataStoreOptions,
  ) {
    this.dir = join(dataDir, 'data');
    mkdirSync(this.dir, { recursive: true });
    this.db = new Database(join(this.dir, 'mapping.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS object_mapping (object_id TEXT PRIMARY KEY, file TEXT NOT NULL, ' +
        'file_offset INTEGER NOT NULL, object_size INTEGER NOT NULL, crc32 INTEGER NOT NULL)',
    );
    this.insert = this.db.prepare(
      (options.replaceMapping ? 'INSERT OR REPLACE' : 'INSERT') +
        ' INTO object_mapping (object_id, file, file_offset, object_size, crc32) VALUES (?, ?, ?, ?, ?)',
    );
    this.lookup = this.db.prepare(
      'SELECT file, file_offset AS offset, object_size AS size, crc32 AS crc FROM object_mapping WHERE object_id = ?',
    );
    this.remove = this.db.prepare('DELETE FROM object_mapping WHERE object_id = ?');
    this.liveByFile = this.db.prepare('SELECT file, SUM(object_size) AS live FROM object_mapping GROUP BY file');
    this.entriesIn = this.db.prepare(
      'SELECT object_id AS objectId, file_offset AS offset, object_size AS size, crc32 AS crc FROM object_mapping ' +
        'WHERE file = ? ORDER BY file_offset LIMIT ?',
    );
    this.countIn = this.db.prepare('SELECT COUNT(*) AS n FROM object_mapping WHERE file = ?');
    this.setCrc = this.db.prepare('UPDATE object_mapping SET crc32 = ? WHERE object_id = ?');
    this.move = this.db.prepare(
      'UPDATE object_mapping SET file = ?, file_offset = ? WHERE object_id = ? AND file = ? AND file_offset = ?',
    );
    const files = this.dataFiles();
    const last = files.at(-1) ?? '000001.dat';
    // A restart after a crash mid-compaction: a file no mapping entry names (an old file whose every object was
    // moved, or an output no batch was mapped into yet) is garbage whole. The last file is kept for appends.
    for (const name of files) if (name !== last && this.count(name) === 0) unlinkSync(join(this.dir, name));
    this.highest = Number(last.slice(0, 6));
    // MUTANT compaction-numbers-by-count: after a restart the next file number is counted from the files there, so
    // with files deleted by compaction the next output is a file that exists (the one appends go to).
    if (options.compactionMutant === 'compaction-numbers-by-count') this.highest = Math.max(1, files.length);
    this.current = this.open(last);
    // MUTANT restart-offset-from-mapping: appends after a restart mapped from the last mapped object's end.
    const end = 'SELECT MAX(file_offset + object_size) AS e FROM object_mapping WHERE file = ?';
    if (options.offsetFromMapping) this.current.size = (this.db.prepare(end).get(last) as { e: number | null }).e ?? 0;
  }

  private dataFiles(): string[] {
    return readdirSync(this.dir)
      .filter((f) => /^\d{6}\.dat$/.test(f))
      .sort();
  }

  private count(file: string): number {
    return (this.countIn.get(file) as { n: number }).n;
  }

  /** A data file name no file has had yet. */
  private nextName(): string {
    this.highest += 1;
    return `${String(this.highest).padStart(6, '0')}.dat`;
  }

  private open(name: string): FileHandle {
    let fd = this.fds.get(name);
    if (fd === undefined) {
      fd = openSync(join(this.dir, name), 'a+');
      this.fds.set(name, fd);
    }
    return { name, fd, size: fstatSync(fd).size };
  }

  /**
   * Appends an object's bytes to the current file, syncs them, then records where they are. Synchronous, so two
   * PUTs never interleave their bytes (the book's serialized write access to a file).
   */
  append(objectId: string, bytes: Buffer): void {
    this.rollFor(bytes.length);
    const offset = this.current.size;
    this.write(bytes);
    fdatasyncSync(this.current.fd);
    this.insert.run(objectId, this.current.name, offset, bytes.length, crc32(bytes));
  }

  /**
   * Appends one object made of other entries' bytes, in the order given (a completed multipart upload): each is
   * read and CRC-checked in turn, so only one part is in memory at a time. The entries themselves stay mapped.
   */
  appendJoined(objectId: string, entryIds: readonly string[]): number {
    const total = entryIds.reduce((sum, id) => sum + this.mapping(id).size, 0);
    this.rollFor(total);
    const offset = this.current.size;
    let crc = 0;
    for (const id of entryIds) {
      const bytes = this.read(id);
      this.write(bytes);
      crc = crc32(bytes, crc);
    }
    fdatasyncSync(this.current.fd);
    this.insert.run(objectId, this.current.name, offset, total, crc);
    return total;
  }

  /** Rolls to a new data file when `size` more bytes would take the current one past its limit. */
  private rollFor(size: number): void {
    if (this.current.size > 0 && this.current.size + size > this.options.fileBytes)
      this.current = this.open(this.nextName());
  }

  private write(bytes: Buffer, to: FileHandle = this.current): void {
    let written = 0;
    while (written < bytes.length) written += writeSync(to.fd, bytes, written, bytes.length - written);
    to.size += bytes.length;
  }

  /** Every data file with its size and the bytes its mapping entries name. */
  usage(): FileUsage[] {
    const live = new Map(
      (this.liveByFile.all() as { file: string; live: number }[]).map((r) => [r.file, Number(r.live)]),
    );
    return this.dataFiles().map((name) => ({ name, size: this.open(name).size, live: live.get(name) ?? 0 }));
  }

  /**
   * Rewrites one data file without its garbage: its live entries are copied, a batch at a time, to an output file of
   * their own (`output`, made by the first call of a pass and rolled over at `fileBytes`), each batch synced before
   * one transaction points its mapping entries at the copies; then the file, which no entry names any more, is
   * deleted. A crash at any point loses nothing: until a batch's transaction commits, its entries name the old
   * bytes, which stay until the end. `between` runs after every batch (reads and writes go on meanwhile);
   * `maxBatches` stops early as a crash would (the harness's control). The file being appended to is sealed first.
   */
  async compactFile(
    name: string,
    o: { batchObjects: number; maxBatches?: number; output: CompactionOutput; between: () => Promise<void> },
  ): Promise<{ moved: number; batches: number; reclaimed: number; done: boolean }> {
    if (name === this.current.name) this.current = this.open(this.nextName());
    const before = this.open(name).size;
    let moved = 0;
    let movedBytes = 0;
    let batches = 0;
    for (;;) {
      // MUTANT compaction-batches-off-by-one: ?batches=N runs N+1 batches.
      const limit = (o.maxBatches ?? 0) + (this.options.compactionMutant === 'compaction-batches-off-by-one' ? 1 : 0);
      if (o.maxBatches !== undefined && batches >= limit) return { moved, batches, reclaimed: 0, done: false };
      const batch = this.entriesIn.all(name, o.batchObjects) as Entry[];
      if (batch.length === 0) break;
      // A batch is copied without yielding: a few big objects make it as long as many small ones.
      let bytes = 0;
      let keep = 0;
      while (keep < batch.length && (keep === 0 || bytes + batch[keep]!.size <= BATCH_BYTES)) {
        bytes += batch[keep]!.size;
        keep += 1;
      }
      batch.length = keep;
      // MUTANT compaction-drops-live-object: the last batch of the file is never copied, the file deleted anyway.
      if (this.options.compactionMutant === 'compaction-drops-live-object' && this.count(name) <= o.batchObjects) break;
      movedBytes += this.moveBatch(name, batch, o.output);
      moved += batch.length;
      batches += 1;
      await o.between();
    }
    await this.deferred;
    // MUTANT compaction-keeps-garbage: the old file is never deleted.
    if (this.options.compactionMutant === 'compaction-keeps-garbage')
      return { moved, batches, reclaimed: 0, done: true };
    if (this.options.compactionMutant !== 'compaction-drops-live-object' && this.count(name) > 0) {
      return { moved, batches, reclaimed: 0, done: false };
    }
    // MUTANT compaction-keeps-file-open: the old file is unlinked, its descriptor never closed (no space given back).
    const fd = this.options.compactionMutant === 'compaction-keeps-file-open' ? undefined : this.fds.get(name);
    if (fd !== undefined) closeSync(fd);
    this.fds.delete(name);
    unlinkSync(join(this.dir, name));
    return { moved, batches, reclaimed: before - movedBytes, done: true };
  }

  /**
   * Copies one batch to the output file, syncs it, then points the batch's entries at the copies in one transaction.
   * Returns the bytes copied.
   */
  private moveBatch(from: string, batch: readonly Entry[], output: CompactionOutput): number {
    const total = batch.reduce((sum, e) => sum + e.size, 0);
    // MUTANT compaction-output-roll-stale: the offsets are taken from the output before it rolls over.
    const stale = this.options.compactionMutant === 'compaction-output-roll-stale' ? output.file?.size : undefined;
    if (!output.file || (output.file.size > 0 && output.file.size + total > this.options.fileBytes)) {
      output.file = this.open(this.nextName());
    }
    const target = output.file;
    let at = stale ?? target.size;
    const places = batch.map((e) => {
      const offset = at;
      at += e.size;
      return { e, offset };
    });
    // The bytes are copied as stored, under their own CRC-32: a damaged object stays an error on read.
    // MUTANT compaction-recomputes-crc: the copies' CRC-32 taken from the bytes copied, so damaged bytes pass.
    const recompute = this.options.compactionMutant === 'compaction-recomputes-crc';
    const crcs = new Map<string, number>();
    const copy = (to: FileHandle) => {
      for (const { e } of places) {
        const bytes = this.readRaw(from, e);
        if (recompute) crcs.set(e.objectId, crc32(bytes));
        this.write(bytes, to);
      }
      fdatasyncSync(to.fd);
    };
    const remap = this.db.transaction(() => {
      for (const { e, offset } of places) this.move.run(target.name, offset, e.objectId, from, e.offset);
      for (const [id, crc] of crcs) this.setCrc.run(crc, id);
    });
    if (this.options.compactionMutant === 'compaction-maps-before-copy') {
      // MUTANT compaction-maps-before-copy: the mapping names the copies first; the bytes are written a moment later
      // (appended in order, so they land where the mapping says).
      remap();
      target.size += total;
      this.deferred = this.deferred.then(async () => {
        await new Promise((r) => setTimeout(r, 2000));
        copy({ ...target, size: 0 });
      });
      return total;
    }
    copy(target);
    remap();
    return total;
  }

  /** An entry's bytes as they are in the file, unchecked (compaction copies them with their CRC-32). */
  private readRaw(file: string, e: Entry): Buffer {
    const bytes = Buffer.alloc(e.size);
    const fd = this.open(file).fd;
    let got = 0;
    while (got < e.size) {
      const n = readSync(fd, bytes, got, e.size - got, e.offset + got);
      if (n === 0) throw new ChecksumError(`object ${e.objectId} is cut short in ${file}`);
      got += n;
    }
    return bytes;
  }

  private mapping(objectId: string): Mapping {
    const m = this.lookup.get(objectId) as Mapping | undefined;
    if (!m) throw new ChecksumError(`object ${objectId} has no mapping`);
    return m;
  }

  /** The object's bytes (or a slice of them), after checking the whole object's CRC-32. */
  read(objectId: string, range?: { first: number; last: number }): Buffer {
    const m = this.mapping(objectId);
    if (range && this.options.rangeUnchecked) {
      const slice = Buffer.alloc(range.last - range.first + 1);
      readSync(this.open(m.file).fd, slice, 0, slice.length, m.offset + range.first);
      return slice;
    }
    const bytes = Buffer.alloc(m.size);
    const fd = this.open(m.file).fd;
    let got = 0;
    while (got < m.size) {
      const n = readSync(fd, bytes, got, m.size - got, m.offset + got);
      if (n === 0) throw new ChecksumError(`object ${objectId} is cut short in ${m.file}`);
      got += n;
    }
    if (this.options.verifyChecksum && crc32(bytes) !== m.crc) {
      throw new ChecksumError(`object ${objectId} in ${m.file} at ${m.offset} fails its CRC-32`);
    }
    return range ? bytes.subarray(range.first, range.last + 1) : bytes;
  }

  /**
   * MUTANT read-buffer-reused: a GET reads its object asynchronously (so a big read does not block other requests)
   * into one buffer kept for every read, saving an allocation per GET. Each GET alone is right; while one awaits its
   * read, another GET's read lands in the same buffer, so concurrent GETs answer another object's bytes (or fail
   * their CRC). MUTANT get-async-read-races-compaction (`buffer` 'own'): the buffer is the GET's own, but the file's
   * descriptor is taken before the read waits in the I/O pool, so a compaction that closes the file meanwhile fails it.
   */
  async readShared(objectId: string, range?: { first: number; last: number }, buffer = 'shared'): Promise<Buffer> {
    const m = this.mapping(objectId);
    if (this.shared.length < m.size) this.shared = Buffer.alloc(m.size);
    const bytes = buffer === 'own' ? Buffer.alloc(m.size) : this.shared.subarray(0, m.size);
    const fd = this.open(m.file).fd;
    let got = 0;
    while (got < m.size) {
      const n = await new Promise<number>((resolve, reject) =>
        read(fd, bytes, got, m.size - got, m.offset + got, (e, k) => (e ? reject(e) : resolve(k))),
      );
      if (n === 0) throw new ChecksumError(`object ${objectId} is cut short in ${m.file}`);
      got += n;
    }
    if (this.options.verifyChecksum && crc32(bytes) !== m.crc) {
      throw new ChecksumError(`object ${objectId} in ${m.file} at ${m.offset} fails its CRC-32`);
    }
    return range ? bytes.subarray(range.first, range.last + 1) : bytes;
  }

  /** Every object id the mapping table names. */
  mappedIds(): string[] {
    return (this.db.prepare('SELECT object_id AS id FROM object_mapping').all() as { id: string }[]).map((r) => r.id);
  }

  /** Forgets an object's place; its bytes are garbage in their file until compaction rewrites it. */
  drop(objectId: string): void {
    this.remove.run(objectId);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.db.close();
  }
}
