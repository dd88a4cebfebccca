// The book's data node: objects appended to large WAL-style files (data/NNNNNN.dat, a new file once one reaches
// `fileBytes`), and an object mapping table in the node's own SQLite (object_id -> file, offset, size, CRC-32).
// Every read checks the object's CRC-32, so a flipped bit on disk is an error, never served bytes.
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  read,
  readdirSync,
  readSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';

/** Thrown when an object's stored bytes fail their checksum: the API answers 500, never the bytes. */
export class ChecksumError extends Error {}

interface Mapping {
  file: string;
  offset: number;
  size: number;
  crc: number;
}

export interface DataStoreOptions {
  /** Roll to a new data file once the current one is this large. */
  fileBytes: number;
  /** MUTANT checksum-not-verified: false serves bytes without checking their CRC-32. */
  verifyChecksum: boolean;
  /** MUTANT range-read-unchecked: a range reads only its slice, unchecked. */
  rangeUnchecked?: boolean;
  /** MUTANT object-id-from-content: a mapping entry for an id already mapped replaces it. */
  replaceMapping?: boolean;
}

export class DataStore {
  private readonly dir: string;
  private readonly db: Database.Database;
  private readonly fds = new Map<string, number>();
  private current: { name: string; fd: number; size: number };
  private readonly insert: Database.Statement;
  private readonly lookup: Database.Statement;
  private readonly remove: Database.Statement;
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
    const files = readdirSync(this.dir)
      .filter((f) => /^\d{6}\.dat$/.test(f))
      .sort();
    this.current = this.open(files.at(-1) ?? '000001.dat');
  }

  private open(name: string): { name: string; fd: number; size: number } {
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
    if (this.current.size > 0 && this.current.size + size > this.options.fileBytes) {
      const next = String(Number(this.current.name.slice(0, 6)) + 1).padStart(6, '0');
      this.current = this.open(`${next}.dat`);
    }
  }

  private write(bytes: Buffer): void {
    let written = 0;
    while (written < bytes.length) written += writeSync(this.current.fd, bytes, written, bytes.length - written);
    this.current.size += bytes.length;
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
   * their CRC).
   */
  async readShared(objectId: string, range?: { first: number; last: number }): Promise<Buffer> {
    const m = this.mapping(objectId);
    if (this.shared.length < m.size) this.shared = Buffer.alloc(m.size);
    const bytes = this.shared.subarray(0, m.size);
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

  /** Forgets an object's place; its bytes stay in the file until compaction (not built yet). */
  drop(objectId: string): void {
    this.remove.run(objectId);
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.db.close();
  }
}
