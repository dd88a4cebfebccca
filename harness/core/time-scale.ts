// The test suite's long time limits are base values multiplied by one number, SDGRADE_TIME_SCALE (default 1): a
// shared or busy runner (CI) sets it higher, so a slow machine makes the tests slower, never red. Limits bound hangs;
// they are not speed assertions.

/** SDGRADE_TIME_SCALE as a number >= 1 (1 when unset or not a number). */
export function timeScale(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number.parseFloat(env['SDGRADE_TIME_SCALE'] ?? '');
  return Number.isFinite(v) && v >= 1 ? v : 1;
}

/** A time limit: `baseMs` times SDGRADE_TIME_SCALE. */
export function timeLimit(baseMs: number, env: NodeJS.ProcessEnv = process.env): number {
  return Math.round(baseMs * timeScale(env));
}
