// Downtime an SLA allows per day, week, month and year: the book's "sla-chart". The chart itself is an image our
// copy of the book's text does not include, so the figures are computed, with the calendar stated: a 365-day year
// and a month of a twelfth of it (30.42 days). Pass daysPerMonth: 30 for charts that use 30-day months.
import type { Quantity } from './quantity.ts';

export const SLA_LEVELS = [99, 99.9, 99.99, 99.999, 99.9999] as const;

const SECONDS_PER_DAY = 86_400;
const DAYS_PER_YEAR = 365;

export interface Downtime {
  slaPercent: number;
  perDay: Quantity;
  perWeek: Quantity;
  perMonth: Quantity;
  perYear: Quantity;
}

export interface DowntimeOptions {
  daysPerMonth?: number;
}

/** The allowed fraction of downtime, computed as (100 - sla) / 100 with the decimal noise of 100 - 99.99 removed. */
export function downtimeFraction(slaPercent: number): number {
  if (!(slaPercent >= 0 && slaPercent <= 100)) throw new RangeError(`SLA must be 0-100 %, got ${slaPercent}`);
  return Number(((100 - slaPercent) / 100).toPrecision(12));
}

function allowed(slaPercent: number, periodName: string, periodSeconds: number): Quantity {
  return {
    value: downtimeFraction(slaPercent) * periodSeconds,
    unit: 's',
    formula: `(100 - slaPercent) / 100 * ${periodName}`,
    inputs: { slaPercent, [periodName]: periodSeconds },
  };
}

export function downtime(slaPercent: number, options: DowntimeOptions = {}): Downtime {
  const daysPerMonth = options.daysPerMonth ?? DAYS_PER_YEAR / 12;
  return {
    slaPercent,
    perDay: allowed(slaPercent, 'secondsPerDay', SECONDS_PER_DAY),
    perWeek: allowed(slaPercent, 'secondsPerWeek', 7 * SECONDS_PER_DAY),
    perMonth: allowed(slaPercent, 'secondsPerMonth', daysPerMonth * SECONDS_PER_DAY),
    perYear: allowed(slaPercent, 'secondsPerYear', DAYS_PER_YEAR * SECONDS_PER_DAY),
  };
}

export function availabilityTable(
  levels: readonly number[] = SLA_LEVELS,
  options: DowntimeOptions = {},
): readonly Downtime[] {
  return levels.map((sla) => downtime(sla, options));
}

export const availabilityNotes: readonly string[] = [
  'Services typically aim for availability between 99% and 100%.',
  'Cloud providers typically set their uptime at 99.9% or more; AWS EC2 has an SLA of 99.99%.',
];
