// Session tokens: HMAC-signed, so any API server or chat server checks one without a shared session table (the book's
// API servers are stateless). base64url(JSON {u, d, exp}) + "." + base64url(HMAC-SHA256).
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  userId: string;
  deviceId: string;
  /** Unix seconds. */
  exp: number;
}

export class Tokens {
  constructor(
    private readonly secret: string,
    readonly ttlS = 86_400,
  ) {}

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }

  issue(userId: string, deviceId: string, nowS = Math.floor(Date.now() / 1000)): string {
    const body = Buffer.from(JSON.stringify({ u: userId, d: deviceId, exp: nowS + this.ttlS })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The claims of a good, unexpired token; null for anything else. */
  verify(token: string, nowS = Math.floor(Date.now() / 1000)): TokenClaims | null {
    const [body, sig] = token.split('.');
    if (!body || !sig) return null;
    const want = Buffer.from(this.sign(body));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
    try {
      const c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
        u?: unknown;
        d?: unknown;
        exp?: unknown;
      };
      if (typeof c.u !== 'string' || typeof c.d !== 'string' || typeof c.exp !== 'number' || c.exp < nowS) return null;
      return { userId: c.u, deviceId: c.d, exp: c.exp };
    } catch {
      return null;
    }
  }
}
