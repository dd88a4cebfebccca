// The shape shared by the Twitter example and every chapter's estimate: the book's assumptions, then named
// quantities derived from them, each with the book's printed figure when there is one. Rendering, tests and
// deriveTarget all read this one shape.
import type { BookFigure } from './book-figure.ts';
import type { Quantity } from './quantity.ts';

export interface Assumption {
  value: number;
  unit: string;
  /** Where it comes from: the book's words, or "ours:" and why when the book leaves it implicit. */
  book: string;
}

export interface DerivedEstimate {
  quantity: Quantity;
  book?: BookFigure;
  note?: string;
}

export interface EstimateSet<D extends string = string, A extends string = string> {
  slug: string;
  title: string;
  /** The book section the numbers come from. */
  source: string;
  assumptions: Record<A, Assumption>;
  derived: Record<D, DerivedEstimate>;
  notes: readonly string[];
}

/** An assumption as a Quantity, for targets that take a book figure as given (e.g. "10,000 IDs per second"). */
export function assumptionQuantity(assumption: Assumption): Quantity {
  return { value: assumption.value, unit: assumption.unit, formula: `assumption (${assumption.book})` };
}
