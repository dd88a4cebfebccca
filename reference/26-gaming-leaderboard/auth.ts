// Game-server authentication (the book: only game servers post scores, never players' clients): a bearer key
// given to the service at start, compared in constant time.
import { timingSafeEqual } from 'node:crypto';

/** The spec's grading default for the key (setting `gameServerKey`); a deployment sets GAME_SERVER_KEY. */
export const DEFAULT_GAME_SERVER_KEY = 'sdgrade-game-server';

export function isGameServer(authorization: string | undefined, key: string, anyBearer = false): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  if (!m) return false;
  if (anyBearer) return true; // MUTANT any-bearer-accepted
  const given = Buffer.from(m[1]!, 'utf8');
  const want = Buffer.from(key, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}
