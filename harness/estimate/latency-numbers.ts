// Jeff Dean's "latency numbers every programmer should know", as the book lists them (in nanoseconds), and the
// book's conclusions. Old hardware, but the ratios between rows are what an estimate uses.

export interface LatencyNumber {
  operation: string;
  ns: number;
  /** The book's line, verbatim. */
  book: string;
}

export const latencyNumbers: readonly LatencyNumber[] = [
  { operation: 'L1 cache reference', ns: 0.5, book: 'L1 cache reference == 0.5ns' },
  { operation: 'Branch mispredict', ns: 5, book: 'Branch mispredict == 5ns' },
  { operation: 'L2 cache reference', ns: 7, book: 'L2 cache reference == 7ns' },
  { operation: 'Mutex lock/unlock', ns: 100, book: 'Mutex lock/unlock == 100ns' },
  { operation: 'Main memory reference', ns: 100, book: 'Main memory reference == 100ns' },
  { operation: 'Compress 1kb', ns: 10_000, book: 'Compress 1kb == 10,000ns == 10us' },
  {
    operation: 'Send 2kb over 1gbps network',
    ns: 20_000,
    book: 'Send 2kb over 1gbps network == 20,000ns == 20us',
  },
  { operation: 'Read 1mb sequentially from memory', ns: 250_000, book: 'Read 1mb sequentially from memory == 250us' },
  { operation: 'Round trip within same DC', ns: 500_000, book: 'Round trip within same DC == 500us' },
  { operation: 'Disk seek', ns: 10_000_000, book: 'Disk seek == 10ms' },
  {
    operation: 'Read 1mb sequentially from network',
    ns: 10_000_000,
    book: 'Read 1mb sequentially from network == 10ms',
  },
  { operation: 'Read 1mb sequentially from disk', ns: 30_000_000, book: 'Read 1mb sequentially from disk == 30ms' },
  { operation: 'Send packet CA->Netherlands->CA', ns: 150_000_000, book: 'Send packet CA->Netherlands->CA == 150ms' },
];

export const latencyConclusions: readonly string[] = [
  'Memory is fast, disk is slow',
  'Avoid disk seeks if possible',
  'Compression is usually fast',
  'Compress data before sending over the network if possible',
  'Data centers round trips are expensive',
];

/** Look a row up by its operation name; throws listing the names for an unknown one. */
export function latencyOf(operation: string): LatencyNumber {
  const found = latencyNumbers.find((n) => n.operation === operation);
  if (!found) {
    throw new Error(
      `Unknown latency operation "${operation}". Known: ${latencyNumbers.map((n) => n.operation).join(', ')}`,
    );
  }
  return found;
}
