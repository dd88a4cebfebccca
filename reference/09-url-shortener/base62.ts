// Base62 conversion, the book's choice for turning a unique ID into a short code: digits, then lower case, then
// upper case ([0-9a-zA-Z]), most significant digit first. 62^7 = 3,521,614,606,208 codes fit in 7 characters.
export const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const BASE = 62n;
const DIGIT_VALUES = new Map([...ALPHABET].map((c, i) => [c, BigInt(i)]));

/** Encode a non-negative integer (a number up to 2^53 or any bigint) as base62; 0 is "0". */
export function encodeBase62(value: number | bigint): string {
  let n = typeof value === 'bigint' ? value : BigInt(value);
  if (n < 0n || (typeof value === 'number' && !Number.isSafeInteger(value))) {
    throw new RangeError(`base62 encodes non-negative integers, got ${value}`);
  }
  if (n === 0n) return '0';
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % BASE)] + out;
    n /= BASE;
  }
  return out;
}

/** Decode a base62 string; throws on an empty string or a character outside the alphabet. */
export function decodeBase62(code: string): bigint {
  if (code.length === 0) throw new RangeError('empty base62 string');
  let n = 0n;
  for (const c of code) {
    const digit = DIGIT_VALUES.get(c);
    if (digit === undefined) throw new RangeError(`'${c}' is not a base62 digit`);
    n = n * BASE + digit;
  }
  return n;
}
