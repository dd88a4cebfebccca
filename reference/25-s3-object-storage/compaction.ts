// Garbage collection by compaction (the book's "garbage collection"): a data file whose garbage (bytes no mapping
// entry names: replaced and deleted objects, versions deleted by id, completed or aborted uploads' parts, bytes
// appended before a crash kept them from being mapped) reaches `garbageRatio` of its size is rewritten without it
// (DataStore.compactFile). Runs on a timer and on demand (POST /_ops/compact, app.ts); one pass at a time.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CompactionOutput, DataStore } from './data-store.ts';

export interface CompactionSettings {
  /** How often the timer looks for files to compact; 0 turns the timer off. */
  intervalMs: number;
  /** The share of a file's size that must be garbage before the timer compacts it. */
  garbageRatio: number;
  /** Entries copied and re-mapped per batch (one sync and one transaction each). */
  batchObjects: number;
}

export interface CompactionReport {
  files: string[];
  moved: number;
  batches: number;
  reclaimedBytes: number;
  /** False when `maxBatches` stopped the pass before every chosen file was rewritten. */
  done: boolean;
}

export class Compactor {
  private running: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly data: DataStore,
    private readonly settings: CompactionSettings,
    private readonly log: (msg: string, report: CompactionReport) => void,
    /** MUTANT compaction-passes-overlap: a pass starts at once, beside the one running. */
    private readonly overlap = false,
  ) {}

  /** The share of a file that must be garbage before the timer compacts it. */
  get garbageRatio(): number {
    return this.settings.garbageRatio;
  }

  start(): void {
    if (this.settings.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      void this.run({ minRatio: this.settings.garbageRatio }).catch((e) => console.error('compaction failed', e));
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  /**
   * One pass over the files whose garbage is at least `minRatio` of their size (any garbage when 0), after the
   * pass already running. `maxBatches` stops after that many batches, as a crash would.
   */
  run(o: { minRatio: number; maxBatches?: number }): Promise<CompactionReport> {
    const next = this.overlap ? this.pass(o) : this.running.catch(() => undefined).then(() => this.pass(o));
    this.running = next;
    return next;
  }

  private async pass(o: { minRatio: number; maxBatches?: number }): Promise<CompactionReport> {
    const files = this.data
      .usage()
      .filter((f) => f.size > f.live && (f.size - f.live) / f.size >= o.minRatio)
      .map((f) => f.name);
    const report: CompactionReport = { files, moved: 0, batches: 0, reclaimedBytes: 0, done: true };
    const output: CompactionOutput = {};
    for (const name of files) {
      const left = o.maxBatches === undefined ? undefined : o.maxBatches - report.batches;
      if (left !== undefined && left <= 0) {
        report.done = false;
        break;
      }
      const r = await this.data.compactFile(name, {
        batchObjects: this.settings.batchObjects,
        ...(left === undefined ? {} : { maxBatches: left }),
        output,
        // Between batches, requests waiting on the event loop run: reads see the old place or the new, both whole.
        between: () => nextTurn(),
      });
      report.moved += r.moved;
      report.batches += r.batches;
      report.reclaimedBytes += r.reclaimed;
      if (!r.done) report.done = false;
    }
    if (files.length > 0) this.log('compaction pass', report);
    return report;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running.catch(() => undefined);
  }
}
