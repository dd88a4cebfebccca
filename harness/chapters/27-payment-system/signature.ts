// The PSP's webhook signature (Stripe's scheme), as the fake signs and as a check forges or replays it:
// `PSP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
import { createHmac } from 'node:crypto';

export function signWebhook(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmacHex(secret, `${t}.${body}`)}`;
}

/** The hex HMAC-SHA256 of `text` (a v1 value is this over "<t>.<raw body>"). */
export function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}
