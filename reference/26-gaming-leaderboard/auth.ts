// Game-server authentication (the book: only game servers post scores, never players' clients): a bearer key
// given to the service at start, compared in constant time.
import { timingSafeEqual } from 'node:crypto';

/** The spec's grading default for the key (setting `gameServerKey`); a deployment sets GAME_SERVER_KEY. */
export const DEFAULT_GAME_SERVER_KEY = 'sdgrade-game-server';

export function isGameServer(
  authorization: string | undefined,
  key: string,
  anyBearer = false,
  anyCase = false,
): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  if (!m) return false;
  if (anyBearer) return true; // MUTANT any-bearer-accepted
  // MUTANT key-any-case: the key compared without regard to case.
  const given = Buffer.from(anyCase ? m[1]!.toLowerCase() : m[1]!, 'utf8');
  const want = Buffer.from(anyCase ? key.toLowerCase() : key, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}
