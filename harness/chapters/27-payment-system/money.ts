// Exact decimal arithmetic for the checks (the harness's own, independent of any implementation): a decimal string
// to integer minor units and back, with BigInt so no float ever touches an amount.

export const DIGITS: Readonly<Record<string, number>> = { USD: 2, EUR: 2, GBP: 2, JPY: 0, KWD: 3 };

export function minorOf(amount: string, currency: string): bigint {
  const digits = DIGITS[currency] ?? 2;
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0').slice(0, digits) || '0');
}

export function decimalOf(minor: bigint, currency: string): string {
  const digits = DIGITS[currency] ?? 2;
  if (digits === 0) return minor.toString();
  const text = minor.toString().padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
