// The amounts the properties draw: decimal strings in a currency's minor units, with the values floats get wrong
// (0.29, 0.57, 1.13, 4.35, 10.05...) drawn often.
import fc from 'fast-check';
import { decimalOf } from './money.ts';

export const amountArb = (currency: string) =>
  fc
    .oneof(
      fc.integer({ min: 1, max: 99_999 }),
      fc.constantFrom(29, 57, 58, 113, 114, 1_005, 4_35, 2_01, 1_15, 10_000_001),
      fc.integer({ min: 1, max: 9_999_999_999 }),
    )
    .map((minor) => decimalOf(BigInt(minor), currency));
