// One record of a partition's log, as stored in a segment file. Layout (big-endian):
//   u32 length of everything after this field | u32 CRC-32 of everything after the CRC |
//   u64 offset | u64 timestamp (ms) | i32 key length (-1 = null) | key bytes | u32 value length | value bytes
//   [ u8 tag count | per tag: u8 length | tag bytes ]   (when the message has tags, or a producer section follows)
//   [ u8 producer ID length | producer ID bytes | u32 the batch's first sequence ]   (idempotent produces only)
// A record without tags or producer is byte for byte what it was before they existed, so older segments read as
// they are.
// The CRC covers offset, timestamp, key and value, so a flipped bit anywhere in a record is caught, and a length
// that runs past the end of the file is a torn write.
import { crc32 } from 'node:zlib';

/** Bytes before the CRC-covered part: the length and the CRC. */
const PREFIX = 8;
/** Smallest CRC-covered part: offset, timestamp, key length, value length. */
const MIN_BODY = 8 + 8 + 4 + 4;

export interface LogRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string;
  /** The message's tags (the spec's message filtering); absent or empty when it has none. */
  tags?: readonly string[] | undefined;
  /** An idempotent produce's producer ID and its batch's first sequence (producer-state.ts rebuilds from them). */
  producer?: { id: string; firstSequence: number } | undefined;
}

/** `crcWithoutTags` only for the tags-outside-crc mutant: the checksum stops where the value ends. */
export function encodeRecord(r: LogRecord, crcWithoutTags = false): Buffer {
  const key = r.key === null ? null : Buffer.from(r.key, 'utf8');
  const value = Buffer.from(r.value, 'utf8');
  const tags = (r.tags ?? []).map((t) => Buffer.from(t, 'utf8'));
  const producerId = r.producer ? Buffer.from(r.producer.id, 'utf8') : null;
  const producerBytes = producerId ? 1 + producerId.length + 4 : 0;
  const tagBytes = tags.length || producerId ? 1 + tags.reduce((n, t) => n + 1 + t.length, 0) : 0;
  const body = MIN_BODY + (key?.length ?? 0) + value.length + tagBytes + producerBytes;
  const buf = Buffer.allocUnsafe(PREFIX + body);
  buf.writeUInt32BE(4 + body, 0);
  buf.writeBigUInt64BE(BigInt(r.offset), PREFIX);
  buf.writeBigUInt64BE(BigInt(r.timestamp), PREFIX + 8);
  buf.writeInt32BE(key === null ? -1 : key.length, PREFIX + 16);
  let at = PREFIX + 20;
  if (key) at += key.copy(buf, at);
  buf.writeUInt32BE(value.length, at);
  at += 4 + value.copy(buf, at + 4);
  const valueEnd = at;
  if (tags.length || producerId) {
    at = buf.writeUInt8(tags.length, at);
    for (const t of tags) {
      at = buf.writeUInt8(t.length, at);
      at += t.copy(buf, at);
    }
  }
  if (producerId && r.producer) {
    at = buf.writeUInt8(producerId.length, at);
    at += producerId.copy(buf, at);
    buf.writeUInt32BE(r.producer.firstSequence, at);
  }
  // MUTANT tags-outside-crc: the tag bytes are left out of the checksum.
  buf.writeUInt32BE(crc32(buf.subarray(PREFIX, crcWithoutTags ? valueEnd : buf.length)), 4);
  return buf;
}

export type Decoded =
  | { kind: 'record'; record: LogRecord; bytes: number }
  /** The buffer ends inside the record: a torn write (or, on a read, a record not yet fully written). */
  | { kind: 'torn' }
  /** The record is all there but its CRC or its structure is wrong. */
  | { kind: 'corrupt'; reason: string };

/**
 * Decodes the record at `at`. `verifyCrc` is false only for the crc-not-checked mutant: a record is then taken as
 * it stands, damaged or not. `crcWithoutTags` only for the tags-outside-crc mutant.
 */
export function decodeRecord(buf: Buffer, at: number, verifyCrc = true, crcWithoutTags = false): Decoded {
  if (buf.length - at < PREFIX) return { kind: 'torn' };
  const length = buf.readUInt32BE(at);
  if (length < 4 + MIN_BODY) return { kind: 'corrupt', reason: `record length ${length} is too small` };
  if (buf.length - at - 4 < length) return { kind: 'torn' };
  const end = at + 4 + length;
  const stored = buf.readUInt32BE(at + 4);
  if (verifyCrc && !crcWithoutTags && crc32(buf.subarray(at + PREFIX, end)) !== stored)
    return { kind: 'corrupt', reason: 'CRC mismatch' };
  const offset = Number(buf.readBigUInt64BE(at + PREFIX));
  const timestamp = Number(buf.readBigUInt64BE(at + PREFIX + 8));
  const keyLength = buf.readInt32BE(at + PREFIX + 16);
  let p = at + PREFIX + 20;
  if (keyLength < -1 || p + Math.max(0, keyLength) + 4 > end) return { kind: 'corrupt', reason: 'bad key length' };
  const key = keyLength < 0 ? null : buf.toString('utf8', p, p + keyLength);
  p += Math.max(0, keyLength);
  const valueLength = buf.readUInt32BE(p);
  p += 4;
  if (p + valueLength > end) return { kind: 'corrupt', reason: 'bad value length' };
  const value = buf.toString('utf8', p, p + valueLength);
  if (verifyCrc && crcWithoutTags && crc32(buf.subarray(at + PREFIX, p + valueLength)) !== stored)
    return { kind: 'corrupt', reason: 'CRC mismatch' };
  const extra = decodeTags(buf, p + valueLength, end);
  if (!extra) return { kind: 'corrupt', reason: 'bad tags or producer' };
  const record: LogRecord = { offset, timestamp, key, value };
  if (extra.tags.length) record.tags = extra.tags;
  if (extra.producer) record.producer = extra.producer;
  return { kind: 'record', record, bytes: end - at };
}

/**
 * The tags and the producer between `p` and the record's `end` (none when the value ends the record); null when
 * malformed. A tag count of 0 is only written before a producer section.
 */
function decodeTags(buf: Buffer, p: number, end: number): { tags: string[]; producer?: LogRecord['producer'] } | null {
  if (p === end) return { tags: [] };
  const count = buf.readUInt8(p++);
  const tags: string[] = [];
  for (let i = 0; i < count; i++) {
    if (p >= end) return null;
    const length = buf.readUInt8(p++);
    if (p + length > end) return null;
    tags.push(buf.toString('utf8', p, p + length));
    p += length;
  }
  if (p === end) return count > 0 ? { tags } : null;
  const idLength = buf.readUInt8(p++);
  if (idLength === 0 || p + idLength + 4 !== end) return null;
  const id = buf.toString('utf8', p, p + idLength);
  return { tags, producer: { id, firstSequence: buf.readUInt32BE(p + idLength) } };
}

/** The spec's `size` and `crc` of a message: its value's UTF-8 bytes and their CRC-32. */
export function valueDigest(value: string): { size: number; crc: number } {
  const bytes = Buffer.from(value, 'utf8');
  return { size: bytes.length, crc: crc32(bytes) };
}
