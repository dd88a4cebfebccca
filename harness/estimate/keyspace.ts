// How long a code must be to give every record its own: the smallest n with alphabet^n >= records (chapter 9's
// 62^n >= 365 billion -> n = 7). Loops on exact integer powers rather than log(), which can be off by one.
import type { Quantity } from './quantity.ts';

export function codeLength(alphabetSize: number, records: number): Quantity {
  if (!Number.isInteger(alphabetSize) || alphabetSize < 2) throw new RangeError(`alphabet size must be >= 2`);
  let n = 0;
  while (alphabetSize ** n < records) n++;
  return {
    value: n,
    unit: 'characters',
    formula: 'smallest n with alphabetSize^n >= records',
    inputs: { alphabetSize, records },
  };
}

/** How many distinct codes of a given length an alphabet gives: 62^7 = 3,521,614,606,208. */
export function keyspaceSize(alphabetSize: number, length: number): Quantity {
  return {
    value: alphabetSize ** length,
    unit: 'codes',
    formula: 'alphabetSize^length',
    inputs: { alphabetSize, length },
  };
}
