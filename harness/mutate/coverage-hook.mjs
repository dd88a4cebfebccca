// Loaded with --import into every process of the unmutated (baseline) run: it records which mutants' code ran, and
// when, so the harness can tell which checks reach each mutant (check-coverage.ts reads it against the check spans
// the harness wrote). The instrumented code counts each run into a plain object (no cost added to hot loops); every
// SDGRADE_MUTATE_COVERAGE_TICK_MS (default 50) and at exit the hook writes each mutant whose count changed since the
// last look, with the times of both looks: its code ran somewhere in between, however long a synchronous loop
// delayed the look. A kill -9 loses at most the last tick; no signal handlers (one would change how the process
// stops).
import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SDGRADE_MUTATE_COVERAGE_DIR;
if (dir) {
  const tickMs = Number(process.env.SDGRADE_MUTATE_COVERAGE_TICK_MS ?? 50);
  // the instrumented code creates this object only when it is missing
  const counts = {};
  globalThis.__stryker__ ??= {};
  globalThis.__stryker__.mutantCoverage = { static: counts, perTest: {} };
  const seen = new Map();
  let since = Date.now();
  let fd = -1;
  const look = () => {
    const now = Date.now();
    let lines = '';
    for (const id in counts) {
      const n = counts[id];
      if (seen.get(id) === n) continue;
      seen.set(id, n);
      lines += `${id} ${since} ${now}\n`;
    }
    since = now;
    if (!lines) return;
    try {
      // opened at the first hit, so a process that runs no mutated code (a launcher) leaves no file
      if (fd < 0) fd = openSync(join(dir, `${process.pid}.hits`), 'a');
      writeSync(fd, lines);
    } catch {
      // the folder is gone: the run is over
    }
  };
  setInterval(look, tickMs).unref();
  // A grader that runs its checks in this same process (the unit tests' fixture) looks right before and after a
  // check's code, so the times it records cannot spill into a neighbour's span however late a tick comes.
  globalThis.__sdgradeCoverageLook = look;
  process.on('exit', look);
}
