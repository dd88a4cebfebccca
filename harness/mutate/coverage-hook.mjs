// Loaded with --import into every process of the unmutated (baseline) run: it records which mutants' code ran, and
// when, so the harness can tell which checks reach each mutant (check-coverage.ts reads it against the check spans
// the harness wrote). Each mutant ID is written, with the time, the first time it runs and again whenever it runs
// at least SDGRADE_MUTATE_COVERAGE_THROTTLE_MS (default 200) after its last line: so every run of it lies within
// that long after a line. Written synchronously, so a node the checks kill -9 loses nothing; no signal handlers
// (adding one would change how the process stops).
import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SDGRADE_MUTATE_COVERAGE_DIR;
if (dir) {
  const throttleMs = Number(process.env.SDGRADE_MUTATE_COVERAGE_THROTTLE_MS ?? 200);
  const last = new Map();
  let fd = -1;
  const record = (id) => {
    const now = Date.now();
    const before = last.get(id);
    if (before !== undefined && now - before < throttleMs) return;
    last.set(id, now);
    try {
      // opened at the first hit, so a process that runs no mutated code (a launcher) leaves no file
      if (fd < 0) {
        fd = openSync(join(dir, `${process.pid}.hits`), 'a');
        writeSync(fd, `throttle ${throttleMs}\n`);
      }
      writeSync(fd, `${id} ${now}\n`);
    } catch {
      // the folder is gone: the run is over
    }
  };
  // The instrumented code counts each run of a mutant's code into __stryker__.mutantCoverage.static (it creates
  // that object only when it is missing): counting through this proxy lets the hook see every run as it happens.
  const counts = new Proxy(
    {},
    {
      set(target, id, value) {
        target[id] = value;
        if (typeof id === 'string') record(id);
        return true;
      },
    },
  );
  globalThis.__stryker__ ??= {};
  globalThis.__stryker__.mutantCoverage = { static: counts, perTest: {} };
}
