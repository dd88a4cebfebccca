// The book's power-of-two table: data volumes in powers of 1024 are "about" powers of 1000, which is what lets
// an estimate say 1 KB ~ a thousand bytes. Kept as data (for the CLI and other chapters) with the exact values.

export interface PowerOfTwo {
  power: number;
  /** 2^power, exactly (all fit in a double: 2^50 < 2^53). */
  exact: number;
  /** The round decimal value the book uses for it. */
  approximateValue: number;
  approximate: string;
  fullName: string;
  shortName: string;
  /** The book's line, verbatim. */
  book: string;
}

const row = (power: number, approximate: string, fullName: string, shortName: string, book: string): PowerOfTwo => ({
  power,
  exact: 2 ** power,
  approximateValue: 1000 ** (power / 10),
  approximate,
  fullName,
  shortName,
  book,
});

export const powersOfTwo: readonly PowerOfTwo[] = [
  row(10, '1 thousand', '1 kilobyte', '1 KB', '2^10 == ~1000 == 1kb'),
  row(20, '1 million', '1 megabyte', '1 MB', '2^20 == ~1mil == 1mb'),
  row(30, '1 billion', '1 gigabyte', '1 GB', '2^30 == ~1bil == 1gb'),
  row(40, '1 trillion', '1 terabyte', '1 TB', '2^40 == ~1tril == 1tb'),
  row(50, '1 quadrillion', '1 petabyte', '1 PB', '2^50 == ~1quad == 1pb'),
];

/** How far the decimal approximation is from the exact power (2.4% at 2^10, 12.6% at 2^50). */
export function approximationError(entry: PowerOfTwo): number {
  return entry.exact / entry.approximateValue - 1;
}
