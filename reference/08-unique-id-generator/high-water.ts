// The last millisecond a node may have used, kept in its data directory so that a restart onto a clock that is
// behind (a restart within the same millisecond, or after the clock stepped back) never reissues an ID. Writing
// on every millisecond would cost a write per millisecond; instead the file holds a lease a little ahead of the
// clock (now + LEASE_MS) and is rewritten only when the clock passes it. After kill -9 the next run starts no
// earlier than the lease: at most LEASE_MS of waiting, while a graceful stop writes the exact last millisecond.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LEASE_MS = 250;

export class HighWater {
  private readonly file: string;
  private reservedUntil = -1;

  constructor(
    dataDir: string,
    /** MUTANT lease-file-behind: the file gets the millisecond that took the lease, not the lease's end. */
    private readonly leaseBehind: boolean,
  ) {
    this.file = join(dataDir, 'snowflake-high-water');
  }

  /** The millisecond the previous run may have reached, or undefined on a first start. */
  read(): number | undefined {
    try {
      const v = Number(readFileSync(this.file, 'utf8').trim());
      return Number.isSafeInteger(v) && v > 0 ? v : undefined;
    } catch {
      return undefined;
    }
  }

  /** Called before the first ID of millisecond `ms` is returned: the file must cover it. */
  cover(ms: number): void {
    if (ms <= this.reservedUntil) return;
    this.reservedUntil = ms + LEASE_MS;
    this.write(this.reservedUntil);
  }

  /** On a graceful stop: the exact last millisecond used. */
  settle(lastMs: number): void {
    if (lastMs > 0) this.write(lastMs);
  }

  private write(ms: number): void {
    // Written whole and renamed into place, so a crash mid-write never leaves a torn number.
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, String(this.leaseBehind && ms === this.reservedUntil ? ms - LEASE_MS : ms));
    renameSync(tmp, this.file);
  }
}
