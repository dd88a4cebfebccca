import { describe, expect, it } from 'vitest';
import { crawlRate } from './crawl-rate.ts';
import type { Hit } from './web.ts';

const hit = (host: string, path: string, start: number, end = start + 4): Hit => ({ host, path, start, end });

describe('crawlRate', () => {
  it('counts page requests in the window after the warm-up, robots.txt left out, against the politeness bound', () => {
    const hits: Hit[] = [hit('a', '/robots.txt', 0), hit('b', '/robots.txt', 0)];
    // Two hosts, one page every 250 ms each, for 4 s: the first second is warm-up, the next 2 s are measured.
    for (let t = 0; t < 4000; t += 250) hits.push(hit('a', `/p${t}`, t + 10), hit('b', `/p${t}`, t + 20));
    const r = crawlRate(hits, { warmupS: 1, measureS: 2, hosts: 2, delayMs: 200 });
    expect(r.pages).toBe(16);
    expect(r.pagesPerS).toBe(8);
    expect(r.hostsCrawled).toBe(2);
    expect(r.politenessBound).toBe(10);
    expect(r.politenessRatio).toBe(0.8);
    expect(r.ranThrough).toBe(true);
    expect(r.latencyMs.p99).toBe(4);
  });

  it('says when the crawl stopped before the window ended', () => {
    const hits = [hit('a', '/', 0), hit('a', '/p1', 300)];
    const r = crawlRate(hits, { warmupS: 0, measureS: 5, hosts: 1, delayMs: 100 });
    expect(r.ranThrough).toBe(false);
    expect(r.pagesPerS).toBe(0.4);
  });
});
