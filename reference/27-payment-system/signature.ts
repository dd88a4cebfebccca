// Webhook signatures, Stripe's scheme: `PSP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
// with a secret shared with the PSP. The timestamp is signed too, so an old event cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_TOLERANCE_S = 300;

/**
 * Null when the header is a valid, fresh signature of this exact body; otherwise why not. `untimed` is only for the
 * hand-written MUTANT signature-timestamp-optional: a header without a numeric `t` is checked as if signed at "NaN".
 */
export function verify(
  secret: string,
  header: string | undefined,
  body: string,
  now = Date.now(),
  untimed = false,
): string | null {
  if (!header) return 'no PSP-Signature header';
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const [k, v] = item.split('=', 2);
    if (!k || v === undefined) return 'malformed PSP-Signature header';
    parts.set(k.trim(), [...(parts.get(k.trim()) ?? []), v.trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t)) {
    if (!untimed) return 'PSP-Signature has no timestamp';
  }
  if (Math.abs(now / 1000 - t) > SIGNATURE_TOLERANCE_S) return 'PSP-Signature is too old (or from the future)';
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const ok = (parts.get('v1') ?? []).some((hex) => {
    if (!/^[0-9a-f]{64}$/.test(hex)) return false;
    return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
  return ok ? null : 'PSP-Signature does not match the body';
}
