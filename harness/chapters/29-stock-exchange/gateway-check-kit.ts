// Shared by the client-gateway checks (SE-I9 access, SE-I10 rate limit): keys that prove nobody, so each check
// refuses requests the same way.
import { userKey } from './api.ts';

/** `userId`'s key signed with another secret than the gateway's: well-formed, yet it proves nobody. */
export function forgedKey(secret: string, userId: string): string {
  return userKey(`${secret}-not`, userId);
}

/** An Authorization header carrying `forgedKey`. */
export function forgedHeader(secret: string, userId: string): string {
  return `Bearer ${forgedKey(secret, userId)}`;
}
