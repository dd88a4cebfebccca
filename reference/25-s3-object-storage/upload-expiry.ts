// Abandoned multipart uploads (the book's garbage collection of "orphan data: half uploaded data or abandoned
// multipart uploads"; S3's AbortIncompleteMultipartUpload, counted from initiation). An upload not completed within
// MULTIPART_EXPIRY_SECONDS of its initiation is unknown from then on (its requests NoSuchUpload, left out of
// ListMultipartUploads), and is ended like an abort by the sweep (on a timer, and before every compaction pass):
// its parts' bytes dropped, so that pass reclaims them.
import type { DataPlane } from './data-plane.ts';
import type { MetaStore, UploadRow } from './metadata-store.ts';
import type { MutantName } from './mutants.ts';

/** S3 keeps an incomplete upload until a lifecycle rule aborts it; the reference ends it after 7 days. */
export const DEFAULT_MULTIPART_EXPIRY_SECONDS = 7 * 24 * 3600;
/** The sweep runs at least this often (and as often as the expiry when that is shorter). */
const MAX_SWEEP_INTERVAL_MS = 60_000;

export class UploadExpiry {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly data: DataPlane,
    readonly expiryMs: number,
    private readonly mutant?: MutantName,
  ) {}

  /** Whether the upload is past its expiry at `now`. */
  async expired(u: UploadRow, now = Date.now()): Promise<boolean> {
    return now - (await this.since(u)) >= this.expiryMs;
  }

  /** Ends every upload past its expiry (its parts' bytes dropped); answers how many it ended. */
  async sweep(now = Date.now()): Promise<number> {
    let ended = 0;
    // The uploads initiated before the cut-off are the only candidates (the mutant's count from a later time).
    for (const u of await this.meta.uploadsInitiatedBefore(now - this.expiryMs)) {
      if (!(await this.expired(u, now))) continue;
      const gone = await this.meta.endUpload(u.uploadId);
      if (!gone) continue; // completed or aborted meanwhile
      ended += 1;
      // MUTANT expired-parts-kept: the expired upload is forgotten, its parts' bytes never dropped (never reclaimed).
      if (this.mutant !== 'expired-parts-kept') for (const p of gone.parts) this.data.drop(p.objectId);
    }
    return ended;
  }

  start(log: (msg: string, e?: unknown) => void): void {
    const every = Math.max(10, Math.min(this.expiryMs, MAX_SWEEP_INTERVAL_MS));
    this.timer = setInterval(() => {
      this.sweep().then(
        (n) => n > 0 && log(`${n} multipart uploads past their expiry ended`),
        (e) => log('the sweep of expired multipart uploads failed', e),
      );
    }, every);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** When the upload's expiry is counted from: its initiation. */
  private async since(u: UploadRow): Promise<number> {
    // MUTANT expiry-from-last-part: counted from the last part's upload (an upload still sent to never expires).
    if (this.mutant !== 'expiry-from-last-part') return u.initiated;
    const parts = await this.meta.parts(u.uploadId);
    return Math.max(u.initiated, ...parts.map((p) => p.lastModified));
  }
}

/** MULTIPART_EXPIRY_SECONDS: a positive number of seconds (fractions allowed), default 7 days. */
export function multipartExpiryMs(raw: string | undefined): number | string {
  const seconds = Number(raw ?? DEFAULT_MULTIPART_EXPIRY_SECONDS);
  if (!(seconds > 0) || !Number.isFinite(seconds))
    return `MULTIPART_EXPIRY_SECONDS must be a positive number, got '${raw}'`;
  return Math.round(seconds * 1000);
}
