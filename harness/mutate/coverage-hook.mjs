// Loaded with --import into every process of the unmutated (baseline) run: it writes which mutants' code ran, so a
// mutant whose code never ran under the graded checks is reported as "no coverage" instead of being graded. Written
// every half second and at exit (no signal handlers: adding one would change how the process stops).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SDGRADE_MUTATE_COVERAGE_DIR;
if (dir) {
  const file = join(dir, `${process.pid}.json`);
  const dump = () => {
    const cov = globalThis.__stryker__?.mutantCoverage?.static ?? {};
    try {
      writeFileSync(file, JSON.stringify(Object.keys(cov)));
    } catch {
      // the folder is gone: the run is over
    }
  };
  setInterval(dump, 500).unref();
  process.on('exit', dump);
}
