// Hinted handoff (the book's "Handling temporary failures"): a version a replica could not take is kept here, with
// the name of the replica it is for, and handed over when that replica answers again. Hints are a log in the data
// directory (an `add` line per hint, a `done` line per delivery), so a restart does not forget them.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Version } from './clock.ts';

export interface Hint {
  id: string;
  target: string;
  key: string;
  v: Version;
}

export class HintStore {
  readonly pending = new Map<string, Hint>();
  delivered = 0;
  stored = 0;
  private readonly file: string;

  /** MUTANT hint-id-per-key: a hint is identified by replica and key, so a second version of a key is not hinted. */
  private readonly perKey: boolean;
  constructor(dir: string, o: { forgetOnStart?: boolean; perKey?: boolean } = {}) {
    this.perKey = o.perKey ?? false;
    this.file = join(dir, 'hints.log');
    // MUTANT hints-forgotten-on-restart: the log emptied at start; hints held before a restart are never handed over.
    if (o.forgetOnStart && existsSync(this.file)) writeFileSync(this.file, '');
    if (!existsSync(this.file)) return;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { add?: Hint; done?: string };
        if (e.add) this.pending.set(e.add.id, e.add);
        if (e.done) this.pending.delete(e.done);
      } catch {
        /* torn last line */
      }
    }
    this.compact();
  }

  add(target: string, key: string, v: Version): void {
    const id = this.perKey ? `${target}|${key}` : `${target}|${key}|${v.dot}`;
    if (this.pending.has(id)) return;
    const h: Hint = { id, target, key, v };
    appendFileSync(this.file, `${JSON.stringify({ add: h })}\n`);
    this.pending.set(id, h);
    this.stored++;
  }

  done(id: string): void {
    if (!this.pending.delete(id)) return;
    appendFileSync(this.file, `${JSON.stringify({ done: id })}\n`);
    this.delivered++;
    if (this.pending.size === 0) this.compact();
  }

  private compact(): void {
    writeFileSync(this.file, [...this.pending.values()].map((h) => `${JSON.stringify({ add: h })}\n`).join(''));
  }

  forTarget(target: string): Hint[] {
    return [...this.pending.values()].filter((h) => h.target === target);
  }
}
