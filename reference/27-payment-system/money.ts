// Amounts are decimal strings on the wire and integers of minor units inside (cents, yen, fils): never binary
// floating point, which cannot hold 0.10 exactly. The currency says how many fraction digits are allowed.

/** Fraction digits per supported currency (ISO 4217). */
export const MINOR_DIGITS: Readonly<Record<string, number>> = { USD: 2, EUR: 2, GBP: 2, JPY: 0, KWD: 3 };

const DECIMAL = /^(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,3}))?$/;

/** Minor units of a decimal string, or a reason it is not an amount of this currency. */
export function toMinor(amount: string, currency: string): { minor: number } | { error: string } {
  const digits = MINOR_DIGITS[currency];
  if (digits === undefined) return { error: `currency ${currency} is not supported` };
  const m = DECIMAL.exec(amount);
  if (!m) return { error: `amount ${JSON.stringify(amount)} is not a decimal string` };
  const fraction = m[2] ?? '';
  if (fraction.length > digits) {
    return { error: `amount ${amount} has ${fraction.length} fraction digits; ${currency} allows ${digits}` };
  }
  const minor = Number(m[1]) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  if (minor <= 0) return { error: 'amount must be greater than zero' };
  return { minor };
}

/** The decimal string of minor units, with exactly the currency's fraction digits ("3.10", "300", "1.005"). */
export function fromMinor(minor: number | bigint, currency: string): string {
  const digits = MINOR_DIGITS[currency] ?? 2;
  const value = BigInt(minor);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  if (digits === 0) return `${sign}${abs}`;
  const text = abs.toString().padStart(digits + 1, '0');
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** MUTANT fraction-padded-left: a short fraction is padded on the left ("3.1" USD is 301 cents, not 310). */
export function toMinorPaddedLeft(amount: string, currency: string): { minor: number } | { error: string } {
  const m = DECIMAL.exec(amount);
  const digits = MINOR_DIGITS[currency];
  if (!m || digits === undefined) return toMinor(amount, currency);
  const exact = toMinor(amount, currency);
  if ('error' in exact) return exact;
  return { minor: Number(m[1]) * 10 ** digits + Number((m[2] ?? '').padStart(digits, '0') || '0') };
}

/**
 * MUTANT float-amounts: what a careless implementation does, parseFloat and multiply. 0.29 * 100 is
 * 28.999999999999996, so the floor loses a cent; 1.005 USD is accepted and silently rounded.
 */
export function toMinorWithFloats(amount: string, currency: string): { minor: number } | { error: string } {
  const digits = MINOR_DIGITS[currency];
  if (digits === undefined) return { error: `currency ${currency} is not supported` };
  const minor = Math.floor(Number.parseFloat(amount) * 10 ** digits);
  if (!(minor > 0)) return { error: 'amount must be greater than zero' };
  return { minor };
}
