// k6's own CPU use while it runs, read from /proc/<pid>/stat of every k6 process descended from this one (one per
// execution segment). On a machine where k6 and the server share the CPU, a k6 that is itself busy cannot start
// iterations on time, and its dropped iterations say nothing about the server. Linux only: elsewhere it reports
// nothing, and the verdicts do not use it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { LoadGeneratorUse } from '../results/types.ts';

/** k6 was the bottleneck above this many cores of CPU on average over a run. */
export const SATURATED_CORES = 0.9;

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

/** Fields of /proc/<pid>/stat; the command name is in parentheses and may contain spaces. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), ppid, ticks: utime + stime };
}

function readStats(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${e}/stat`, 'utf8'));
      if (s) out.set(s.pid, s);
    } catch {
      // The process ended between readdir and read.
    }
  }
  return out;
}

/** k6 processes below `root` in the process tree (the runner may spawn k6 directly or through a wrapper). */
function k6Descendants(stats: Map<number, ProcStat>, root: number): ProcStat[] {
  const isBelow = (s: ProcStat) => {
    let p = s.ppid;
    for (let depth = 0; depth < 8 && p > 1; depth++) {
      if (p === root) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  return [...stats.values()].filter((s) => s.comm.startsWith('k6') && isBelow(s));
}

export interface CpuSampler {
  /** Stops sampling; `dropped` is the iterations the run could not start (from its summary). */
  stop(dropped: number): LoadGeneratorUse;
}

/** Samples every k6 process below this one every `everyMs` until stop(). */
export function sampleK6Cpu(everyMs = 500): CpuSampler {
  const hz = ticksPerSecond();
  const last = new Map<number, number>();
  const seen = new Set<number>();
  let total = 0;
  let peak = 0;
  let busySince: number | null = null;
  let lastAt = Date.now();
  const tick = () => {
    const now = Date.now();
    let delta = 0;
    for (const s of k6Descendants(readStats(), process.pid)) {
      seen.add(s.pid);
      delta += s.ticks - (last.get(s.pid) ?? 0);
      last.set(s.pid, s.ticks);
    }
    if (seen.size > 0 && busySince === null) busySince = lastAt;
    total += delta;
    const seconds = (now - lastAt) / 1000;
    if (seconds > 0.2 && busySince !== null) peak = Math.max(peak, delta / hz / seconds);
    lastAt = now;
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    stop(dropped) {
      clearInterval(timer);
      tick();
      const seconds = busySince === null ? 0 : (Date.now() - busySince) / 1000;
      const cpuCores = seconds > 0 ? Math.round((total / hz / seconds) * 100) / 100 : 0;
      const saturated = cpuCores >= SATURATED_CORES;
      const use: LoadGeneratorUse = {
        processes: seen.size,
        cpuCores,
        peakCpuCores: Math.round(peak * 100) / 100,
        dropped,
        saturated,
      };
      if (saturated) {
        use.why = `k6 used ${cpuCores} CPU cores on average (${SATURATED_CORES} or more: the load generator itself was busy)${
          dropped > 0 ? ` and could not start ${dropped} iterations on time` : ''
        }`;
      }
      return use;
    },
  };
}
