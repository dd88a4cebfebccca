// Shared by the client-gateway checks (SE-I9 access, SE-I10 rate limit, SE-I11 the event log): keys that prove
// nobody, and what a 401 must be, so each check refuses requests the same way.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { userKey } from './api.ts';

/** `userId`'s key signed with another secret than the gateway's: well-formed, yet it proves nobody. */
export function forgedKey(secret: string, userId: string): string {
  return userKey(`${secret}-not`, userId);
}

/** An Authorization header carrying `forgedKey`. */
export function forgedHeader(secret: string, userId: string): string {
  return `Bearer ${forgedKey(secret, userId)}`;
}

/** A 401 as the spec's Unauthorized response: the problem body (code `unauthorized`), WWW-Authenticate: Bearer. */
export function expectUnauthorized(ctx: CheckContext, x: Exchange, what: string): void {
  ctx.expect(x.status === 401, `${what}: expected 401, got ${x.status ?? x.error}`, x);
  const body = x.body as { status?: unknown; code?: unknown } | undefined;
  ctx.expect(
    /^application\/problem\+json\b/.test(String(x.headers['content-type'] ?? '')) &&
      body?.status === 401 &&
      body.code === 'unauthorized',
    `${what}: the 401 is not a problem body with code unauthorized (content-type ${String(x.headers['content-type'])}, body ${JSON.stringify(x.body)?.slice(0, 200)})`,
    x,
  );
  ctx.expect(
    /^bearer\b/i.test(String(x.headers['www-authenticate'] ?? '')),
    `${what}: a 401 without WWW-Authenticate: Bearer`,
    x,
  );
}
