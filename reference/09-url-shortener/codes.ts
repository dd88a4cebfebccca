// The short code of a link: base62 of its unique ID (the book's choice). The ID comes from the database (a
// sequence in PostgreSQL, MAX(id)+1 under SQLite's write lock), so codes grow one character at a time and stay
// within 7 characters up to 62^7 ~ 3.5 trillion links, the book's 10-year 365 billion with room to spare.
// Why not a Snowflake ID, which the book mentions for a distributed generator? A Snowflake ID is a 64-bit number
// around 2^60 from the first millisecond (41 bits of timestamp shifted left by 22), and base62 of it is 11
// characters: the code length the book works to avoid. One database sequence per deployment is simple and fast
// enough for the book's 1,200 writes per second; a sharded deployment would hand out ID ranges per shard instead.
import { createHash } from 'node:crypto';
import { encodeBase62 } from './base62.ts';
import { type MutantName, snowflakeId } from './mutants.ts';

export function codeFor(id: bigint, longUrl: string, mutant?: MutantName): string {
  if (mutant === 'snowflake-codes') {
    // MUTANT snowflake-codes: base62 of a Snowflake-style ID (timestamp | machine | sequence): 11 characters.
    return encodeBase62(snowflakeId());
  }
  if (mutant === 'truncated-hash') {
    // MUTANT truncated-hash: a hash cut to 2 base62 characters (3,844 codes), with no collision resolution.
    const hash = BigInt(`0x${createHash('sha256').update(longUrl).digest('hex')}`);
    return encodeBase62(hash % 62n ** 2n).padStart(2, '0');
  }
  return encodeBase62(id);
}
