// A figure as the book prints it, and the test of whether our computed value agrees with it. The tolerance comes
// from the book's own rounding (half a unit in its last significant digit), never from widening until it passes.
import { formatInput } from './quantity.ts';

export interface BookFigure {
  /** The book's words, verbatim, e.g. "3400-3600 tweets per second". */
  text: string;
  /** The figure in the quantity's unit, as we read the text (e.g. "302mb per day" of tweets -> 302e6). */
  value: number;
  /** Significant digits of the book's rounding; absent means the book states the figure exactly. */
  sigFigs?: number;
  /** When the book gives a range instead of one figure. */
  range?: readonly [number, number];
  /** How we read the text when its units are loose. */
  reading?: string;
}

/** Half a unit in the last significant digit: 7000 at 1 s.f. -> 500; 36.5e12 at 3 s.f. -> 0.05e12. */
export function roundingTolerance(figure: BookFigure): number {
  if (figure.sigFigs === undefined || figure.value === 0) return 0;
  const exponent = Math.floor(Math.log10(Math.abs(figure.value))) - figure.sigFigs + 1;
  return 0.5 * 10 ** exponent;
}

/** Whether a computed value is what the book's figure says, within the book's rounding (or inside its range). */
export function matchesBook(value: number, figure: BookFigure): boolean {
  if (figure.range) return value >= figure.range[0] && value <= figure.range[1];
  const slack = roundingTolerance(figure) + 1e-9 * Math.abs(figure.value);
  return Math.abs(value - figure.value) <= slack;
}

/** One line for a derivation: what the book says and whether our value agrees. */
export function describeBookFigure(value: number, figure: BookFigure): string {
  const reading = figure.reading ? `, read as ${figure.reading}` : '';
  const rounding = figure.range
    ? `range ${formatInput(figure.range[0])}-${formatInput(figure.range[1])}`
    : figure.sigFigs === undefined
      ? 'exact'
      : `${figure.sigFigs} significant figure${figure.sigFigs === 1 ? '' : 's'}`;
  const verdict = matchesBook(value, figure) ? 'agrees' : 'DIFFERS';
  return `book: "${figure.text}"${reading} (${rounding}): ${verdict}`;
}
