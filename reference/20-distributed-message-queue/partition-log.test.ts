// The log's promises on disk: records read back as appended across segment rolls and reopening; recovery cuts a
// torn tail or a record whose CRC fails and nothing else; a read never hands out a damaged record; retention drops
// only closed segments past their period.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionLog } from './partition-log.ts';
import { decodeRecord, encodeRecord } from './record.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sdgrade-20-log-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const values = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `value-${from + i}-ü-😀`);
const append = (log: PartitionLog, vs: string[]) =>
  log.append(
    vs.map((value) => ({ key: null, value })),
    false,
  );
const readAll = (log: PartitionLog) => log.read(log.logStartOffset, 1 << 30).map((r) => r.value);
const segments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
const lastSegment = (dir: string) => join(dir, segments(dir).at(-1)!);

/** Position of the last occurrence of `value`'s bytes in the file. */
function positionOf(file: string, value: string): number {
  const at = readFileSync(file).lastIndexOf(Buffer.from(value, 'utf8'));
  expect(at).toBeGreaterThan(0);
  return at;
}

describe('record codec', () => {
  it('round-trips and reports a torn or a damaged record', () => {
    const buf = encodeRecord({ offset: 7, timestamp: 1_700_000_000_000, key: 'k€y', value: 'v😀' });
    const d = decodeRecord(buf, 0);
    expect(d).toEqual({
      kind: 'record',
      record: { offset: 7, timestamp: 1_700_000_000_000, key: 'k€y', value: 'v😀' },
      bytes: buf.length,
    });
    expect(decodeRecord(buf.subarray(0, buf.length - 1), 0).kind).toBe('torn');
    const flipped = Buffer.from(buf);
    flipped[flipped.length - 2]! ^= 0x01;
    expect(decodeRecord(flipped, 0)).toEqual({ kind: 'corrupt', reason: 'CRC mismatch' });
    // Without the CRC check the damage is served as data: what the crc-not-checked mutant does.
    expect(decodeRecord(flipped, 0, false).kind).toBe('record');
  });
});

describe('PartitionLog', () => {
  it('reads back every record in order with dense offsets, across segment rolls and a reopen', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir, 1024);
    const all = values(100);
    const offsets = [...append(log, all.slice(0, 60)), ...append(log, all.slice(60))].map((o) => o.offset);
    expect(offsets).toEqual(all.map((_, i) => i));
    expect(segments(dir).length).toBeGreaterThan(3);
    expect(readAll(log)).toEqual(all);
    log.close();
    const again = new PartitionLog(dir, 1024);
    expect(again.endOffset).toBe(100);
    expect(readAll(again)).toEqual(all);
    expect(again.read(57, 1).map((r) => r.offset)).toEqual([57]); // at least one, whatever maxBytes says
    again.close();
  });

  it('a read that maxBytes ends inside a segment is a dense run from the offset, never skipping to the next segment', () => {
    const log = new PartitionLog(tempDir(), 1024);
    const vs = values(40).map((v) => v.padEnd(150, '.'));
    append(log, vs);
    for (let from = 0; from < vs.length; from++)
      for (const maxBytes of [1, 200, 400, 700, 1500, 3000]) {
        const got = log.read(from, maxBytes);
        expect(got.length, `from ${from}, maxBytes ${maxBytes}`).toBeGreaterThan(0);
        expect(got.map((r) => r.offset)).toEqual(got.map((_, k) => from + k));
        expect(got.map((r) => r.value)).toEqual(vs.slice(from, from + got.length));
      }
  });

  it('recovery cuts a torn write at the tail and only that record; appends continue at its offset', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir, 1 << 20);
    const all = values(10);
    append(log, all);
    log.close();
    const file = lastSegment(dir);
    const at = positionOf(file, all[9]!);
    truncateSync(file, at + 3); // in the middle of the last value
    const reopened = new PartitionLog(dir, 1 << 20);
    expect(reopened.recovered.reason).toBe('torn write at the tail');
    expect(reopened.endOffset).toBe(9);
    expect(readAll(reopened)).toEqual(all.slice(0, 9));
    expect(append(reopened, ['after'])).toEqual([{ offset: 9 }]);
    reopened.close();
    const third = new PartitionLog(dir, 1 << 20);
    expect(readAll(third)).toEqual([...all.slice(0, 9), 'after']);
    third.close();
  });

  it('recovery cuts a record whose CRC fails, and never serves it', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir, 1 << 20);
    const all = values(5);
    append(log, all);
    log.close();
    const file = lastSegment(dir);
    const bytes = readFileSync(file);
    bytes[positionOf(file, all[4]!) + 2]! ^= 0x20;
    writeFileSync(file, bytes);
    const reopened = new PartitionLog(dir, 1 << 20);
    expect(reopened.recovered.reason).toBe('CRC mismatch');
    expect(readAll(reopened)).toEqual(all.slice(0, 4));
    expect(statSync(file).size).toBe(positionOf(file, all[3]!) + Buffer.byteLength(all[3]!));
    reopened.close();
  });

  it('a record damaged while the log is open is not read; the records before it are', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir, 1 << 20);
    const all = values(6);
    append(log, all);
    const file = lastSegment(dir);
    const bytes = readFileSync(file);
    bytes[positionOf(file, all[3]!)]! ^= 0x01;
    writeFileSync(file, bytes);
    expect(readAll(log)).toEqual(all.slice(0, 3));
    log.close();
  });

  it('the torn-tail-kept mutant appends after the garbage and loses those records at the next open', () => {
    const dir = tempDir();
    const opts = { truncateDamagedTail: false };
    const log = new PartitionLog(dir, 1 << 20, opts);
    append(log, values(3));
    log.close();
    const file = lastSegment(dir);
    truncateSync(file, statSync(file).size - 2);
    const kept = new PartitionLog(dir, 1 << 20, opts);
    append(kept, ['after']);
    expect(readAll(kept)).toEqual([...values(2), 'after']);
    kept.close();
    const next = new PartitionLog(dir, 1 << 20, opts);
    expect(readAll(next)).toEqual(values(2));
    next.close();
  });

  it('long polling wakes on append and times out otherwise', async () => {
    const log = new PartitionLog(tempDir(), 1 << 20);
    const t0 = Date.now();
    await log.waitForAppend(50);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    const woken = log.waitForAppend(10_000).then(() => Date.now());
    const at = Date.now();
    append(log, ['x']);
    expect((await woken) - at).toBeLessThan(1000);
    log.close();
  });

  it('retention drops closed segments past the period, never the active one', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir, 1024);
    log.append(
      values(80).map((value) => ({ key: null, value })),
      false,
      1_000,
    );
    const before = segments(dir).length;
    expect(before).toBeGreaterThan(2);
    expect(log.applyRetention(60_000, 10_000)).toBe(0); // not past the period yet
    expect(log.applyRetention(60_000, 100_000)).toBe(before - 1);
    expect(segments(dir).length).toBe(1);
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.endOffset).toBe(80);
    log.close();
  });
});

describe('a replica log', () => {
  it("keeps the leader's offsets and timestamps, and truncates across segments to an offset, also after a reopen", () => {
    const dir = tempDir();
    const leader = new PartitionLog(tempDir(), 256);
    append(leader, values(12));
    const follower = new PartitionLog(dir, 256);
    follower.appendReplicated(leader.read(0, 1 << 30));
    expect(readAll(follower)).toEqual(readAll(leader));
    expect(follower.read(0, 1 << 30).map((r) => [r.offset, r.timestamp])).toEqual(
      leader.read(0, 1 << 30).map((r) => [r.offset, r.timestamp]),
    );
    expect(segments(dir).length).toBeGreaterThan(2);
    // A replica whose log went past its new leader's: cut back to offset 3, then written again from there.
    follower.truncateTo(3);
    expect(follower.endOffset).toBe(3);
    expect(readAll(follower)).toEqual(values(3));
    expect(() => follower.appendReplicated([{ offset: 5, timestamp: 1, key: null, value: 'gap' }])).toThrow();
    append(follower, values(2, 100));
    follower.close();
    const reopened = new PartitionLog(dir, 256);
    expect(readAll(reopened)).toEqual([...values(3), ...values(2, 100)]);
    expect(reopened.endOffset).toBe(5);
    reopened.close();
    leader.close();
  });
});

describe('tags', () => {
  it('round-trip under the CRC; a record without tags is the format before tags; a flipped tag byte is caught', () => {
    const plain = encodeRecord({ offset: 3, timestamp: 7, key: 'k', value: 'v' });
    const tagged = encodeRecord({ offset: 3, timestamp: 7, key: 'k', value: 'v', tags: ['a', 'b.c_d-9'] });
    // Without tags: offset, timestamp, key and value behind the 8-byte length and CRC, nothing after the value.
    expect(plain.length).toBe(8 + 8 + 8 + 4 + 1 + 4 + 1);
    expect(decodeRecord(plain, 0)).toMatchObject({ kind: 'record', record: { value: 'v' } });
    expect((decodeRecord(plain, 0) as { record: object }).record).not.toHaveProperty('tags');
    expect(decodeRecord(tagged, 0)).toMatchObject({ kind: 'record', record: { tags: ['a', 'b.c_d-9'] } });
    const flipped = Buffer.from(tagged);
    flipped[flipped.length - 1]! ^= 0x01;
    expect(decodeRecord(flipped, 0)).toMatchObject({ kind: 'corrupt', reason: 'CRC mismatch' });
  });

  it('a filtered read answers only matches, reads past the skipped ones, and survives reopening', () => {
    const dir = tempDir();
    const log = new PartitionLog(dir, 300);
    log.append(
      Array.from({ length: 30 }, (_, i) => ({ key: null, value: `v${i}`, tags: i % 7 === 0 ? ['x'] : ['y'] })),
      false,
    );
    const any = (tags: readonly string[] | null) => (tags ?? []).includes('x');
    const read = (l: PartitionLog) => l.readFiltered(1, l.endOffset, 1 << 20, any);
    expect(read(log).records.map((r) => r.offset)).toEqual([7, 14, 21, 28]);
    expect(read(log).nextOffset).toBe(30);
    expect(segments(dir).length).toBeGreaterThan(1);
    log.close();
    const again = new PartitionLog(dir, 300);
    expect(read(again).records.map((r) => [r.offset, r.value, r.tags])).toEqual(
      [7, 14, 21, 28].map((o) => [o, `v${o}`, ['x']]),
    );
    // maxBytes ends the batch at the second match: nextOffset is that match, past the skipped ones before it.
    expect(again.readFiltered(0, again.endOffset, 1, any)).toMatchObject({ nextOffset: 7 });
    again.close();
  });
});
