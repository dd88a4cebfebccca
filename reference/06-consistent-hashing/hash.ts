// The one hash every placement algorithm here uses: the first 48 bits of SHA-256 of the UTF-8 string.
//
// Why SHA-256: it is stable across processes, machines, Node versions and languages (an implementation in Go or
// Python reproduces it with its standard library), it has no seed (a per-process seed is exactly the `unstable-hash`
// mutant: a restart would move every key), and it spreads even adversarially similar names (`s1#0`, `s1#1`, ...)
// uniformly. Node's one-shot `crypto.hash` makes it cheap enough (well under a microsecond for short keys).
// Why 48 bits and not 64: 48 bits are exact in a JavaScript double, so the ring is a Float64Array sorted natively and
// searched with plain comparisons, with no BigInt; with 200,000 virtual nodes the chance that two collide is
// about 200,000^2 / 2^49 = 7e-5, and a collision is harmless anyway (ties are broken by server ID).
import { hash as cryptoHash } from 'node:crypto';

/** Size of the hash space: hashes are integers in [0, HASH_SPACE). */
export const HASH_SPACE = 2 ** 48;

export type HashFn = (text: string) => number;

/** First 48 bits of SHA-256(text), big-endian, as an exact integer. */
export function hash48(text: string): number {
  return (cryptoHash('sha256', text, 'buffer') as Buffer).readUIntBE(0, 6);
}

/** MUTANT unstable-hash only (a per-process salt): a hash48 with a salt prepended. */
export function saltedHash48(salt: string): HashFn {
  return salt === '' ? hash48 : (text) => hash48(salt + text);
}

/** A hash as a number in (0, 1), for rendezvous scores. */
export function unitInterval(h: number): number {
  return (h + 0.5) / HASH_SPACE;
}
