// Generators of memberships and keys. Server IDs fit the spec's pattern; keys range over ASCII and full Unicode
// (hashed as UTF-8), up to 24 characters.
import fc from 'fast-check';

const idChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-:_'.split(''));

/** A server ID: a letter, then up to 12 characters of [a-z0-9.:_-]. */
export const serverId: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')), fc.string({ unit: idChar, maxLength: 12 }))
  .map(([a, b]) => a + b);

export function servers(
  minLength: number,
  maxLength: number,
  maxWeight = 1,
): fc.Arbitrary<{ id: string; weight: number }[]> {
  return fc.uniqueArray(fc.record({ id: serverId, weight: fc.integer({ min: 1, max: maxWeight }) }), {
    minLength,
    maxLength,
    selector: (s) => s.id,
  });
}

export const key: fc.Arbitrary<string> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 24 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
);

export function keys(minLength: number, maxLength: number): fc.Arbitrary<string[]> {
  return fc.uniqueArray(key, { minLength, maxLength });
}

/** Many distinct keys cheaply: a generated prefix and a counter (the prefix varies their hashes run to run). */
export function keyRange(count: number): fc.Arbitrary<string[]> {
  return fc
    .string({ minLength: 1, maxLength: 8 })
    .map((prefix) => Array.from({ length: count }, (_, i) => `${prefix}/${i}`));
}
