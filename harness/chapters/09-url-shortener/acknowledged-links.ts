// Every link the target acknowledged during one graded run (code -> long URL), shared by the chapter's checks so
// that a fault check re-reads not only what it created itself but everything acknowledged before it in the run.
// Keyed by the Target object: one per graded run (a mutant run, a URL run), so runs never see each other's links.
import type { Target } from '../../core/target.ts';

export class AcknowledgedLinks {
  private readonly urlOf = new Map<string, string>();

  /** Records an acknowledged link; the first URL acknowledged for a code is the one it must keep. */
  record(code: string, longUrl: string): void {
    if (!this.urlOf.has(code)) this.urlOf.set(code, longUrl);
  }

  /** The URL a code was first acknowledged for, if any. */
  urlFor(code: string): string | undefined {
    return this.urlOf.get(code);
  }

  get size(): number {
    return this.urlOf.size;
  }

  /** A snapshot: the checks go on recording while one is being verified. */
  snapshot(): Map<string, string> {
    return new Map(this.urlOf);
  }
}

const byRun = new WeakMap<Target, AcknowledgedLinks>();

export function acknowledgedLinks(target: Target): AcknowledgedLinks {
  let links = byRun.get(target);
  if (!links) {
    links = new AcknowledgedLinks();
    byRun.set(target, links);
  }
  return links;
}
