// Chapter 3, back-of-the-envelope estimation: the book's tables, its worked example, and the per-chapter
// estimates that other chapters' targets derive from (`deriveTarget`).
export {
  availabilityNotes,
  availabilityTable,
  type Downtime,
  type DowntimeOptions,
  downtime,
  downtimeFraction,
  SLA_LEVELS,
} from './availability.ts';
export { type BookFigure, describeBookFigure, matchesBook, roundingTolerance } from './book-figure.ts';
export {
  type ChapterSlug,
  chapterEstimates,
  chapterSlugs,
  deriveTarget,
  getChapterEstimate,
  targetNames,
} from './chapters.ts';
export { type Assumption, assumptionQuantity, type DerivedEstimate, type EstimateSet } from './estimate-set.ts';
export { codeLength, keyspaceSize } from './keyspace.ts';
export { type LatencyNumber, latencyConclusions, latencyNumbers, latencyOf } from './latency-numbers.ts';
export { approximationError, type PowerOfTwo, powersOfTwo } from './power-of-two.ts';
export {
  type ByteFormatOptions,
  formatBytes,
  formatCount,
  formatDuration,
  formatInput,
  formatNumber,
  formatQuantity,
  type Quantity,
  type QuantityFormatOptions,
  renameInputs,
  substituteInputs,
} from './quantity.ts';
export {
  DAYS_PER_YEAR,
  daysIn,
  multiply,
  peak,
  perSecond,
  product,
  SECONDS_PER_DAY,
  storage,
  sum,
  totalOver,
} from './rates.ts';
export { estimateTopics, renderEstimate, renderEstimateSet } from './render-estimate.ts';
export { textTable } from './text-table.ts';
export { type TwitterQuantityName, twitterAssumptions, twitterExample } from './twitter-example.ts';
