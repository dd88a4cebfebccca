// The per-check time limit bounds hangs; it is not a speed assertion. On a runner shared with other work every step
// of a check takes longer roughly in proportion to how oversubscribed the CPUs are, which SDGRADE_TIME_SCALE (set
// once, before the run) cannot follow: the load comes and goes. So each check's limit also grows with the 1-minute
// load average per CPU measured when the check starts, never below 1 and at most MAX_BUSY_FACTOR: a real hang is
// still stopped, only later on a busy machine.
import os from 'node:os';
import { timeLimit } from './time-scale.ts';

/** The most a busy machine stretches a check's limit (a hang on a machine 50 times oversubscribed still ends). */
export const MAX_BUSY_FACTOR = 4;

/** The load average per CPU, clamped to [1, MAX_BUSY_FACTOR] (1 where the platform reports no load average). */
export function busyFactor(load = os.loadavg()[0] ?? 0, cpus = os.availableParallelism()): number {
  const perCpu = cpus > 0 && Number.isFinite(load) ? load / cpus : 0;
  return Math.min(MAX_BUSY_FACTOR, Math.max(1, Math.round(perCpu * 100) / 100));
}

export interface CheckTimeLimit {
  ms: number;
  /** How a stretched limit was made, for the message of a check stopped at it ('' when not stretched). */
  why: string;
}

/** A check's time limit: `baseMs` times SDGRADE_TIME_SCALE times the busy factor now. */
export function checkTimeLimit(
  baseMs: number,
  env: NodeJS.ProcessEnv = process.env,
  factor = busyFactor(),
): CheckTimeLimit {
  const scaled = timeLimit(baseMs, env);
  const ms = Math.round(scaled * factor);
  const why = factor > 1 ? `${scaled} ms stretched ${factor}x for the load average per CPU when it started` : '';
  return { ms, why };
}
