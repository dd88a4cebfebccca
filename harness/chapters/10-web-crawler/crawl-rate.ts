// Pages per second of a crawl, read from the web's own request log (never from the crawler's account), over the
// measured window: from the first request plus the warm-up, for the measured seconds. The politeness bound is the
// fastest any polite crawl of those hosts can go: one page per host per delay, summed over the hosts.
import { round3 } from '../../core/stats.ts';
import type { Hit } from './web.ts';

export interface CrawlRate {
  /** Page requests (robots.txt not counted) that started in the window. */
  pages: number;
  pagesPerS: number;
  /** Hosts that received a page request in the window. */
  hostsCrawled: number;
  /** Sum over the web's hosts of 1/delay, pages/s. */
  politenessBound: number;
  /** pagesPerS / politenessBound. */
  politenessRatio: number;
  /** True when the web still received requests at the window's end (the crawl did not run dry or stall in it). */
  ranThrough: boolean;
  /** The web's response times (start to end of each page request in the window), ms. */
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
}

function percentile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  return round3(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
}

export function crawlRate(
  hits: readonly Hit[],
  o: { warmupS: number; measureS: number; hosts: number; delayMs: number },
): CrawlRate {
  const pages = hits.filter((h) => h.path !== '/robots.txt');
  const first = hits.reduce((t, h) => Math.min(t, h.start), Number.POSITIVE_INFINITY);
  const from = first + o.warmupS * 1000;
  const to = from + o.measureS * 1000;
  const inWindow = pages.filter((h) => h.start >= from && h.start < to);
  const lastStart = hits.reduce((t, h) => Math.max(t, h.start), Number.NEGATIVE_INFINITY);
  const pagesPerS = round3(inWindow.length / o.measureS);
  const politenessBound = round3((o.hosts * 1000) / Math.max(1, o.delayMs));
  const durations = inWindow
    .filter((h) => h.end !== null)
    .map((h) => h.end! - h.start)
    .sort((a, b) => a - b);
  return {
    pages: inWindow.length,
    pagesPerS,
    hostsCrawled: new Set(inWindow.map((h) => h.host)).size,
    politenessBound,
    politenessRatio: round3(pagesPerS / politenessBound),
    // A crawl that kept its pace sends its next requests within a delay (and a second of slack) of the window's end.
    ranThrough: hits.length > 0 && lastStart >= to - o.delayMs - 1000,
    latencyMs: {
      p50: percentile(durations, 0.5),
      p90: percentile(durations, 0.9),
      p95: percentile(durations, 0.95),
      p99: percentile(durations, 0.99),
      max: durations.length ? round3(durations[durations.length - 1]!) : 0,
    },
  };
}
