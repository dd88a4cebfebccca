import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../core/catalog.ts';
import { chapterSlugs } from './chapters.ts';
import { estimateTopics, renderEstimate } from './render-estimate.ts';

describe('renderEstimate', () => {
  it('lists the topics without one', () => {
    const text = renderEstimate();
    expect(text).toContain('Usage: sdgrade estimate [topic]');
    // The book's tables first, then every chapter that has an estimate set (more come with each chapter).
    expect(estimateTopics.slice(0, 4)).toEqual(['powers', 'latency', 'availability', 'twitter']);
    expect(estimateTopics.slice(4)).toEqual([...chapterSlugs]);
    expect(estimateTopics).toContain('09-url-shortener');
    for (const t of estimateTopics) expect(text).toContain(`  ${t}`);
  });

  it('renders each topic', () => {
    expect(renderEstimate('powers')).toMatch(/2\^50\s+1 quadrillion\s+1 petabyte\s+1 PB\s+1,125,899,906,842,624/);
    expect(renderEstimate('latency')).toMatch(/Disk seek\s+10,000,000\s+10 ms/);
    expect(renderEstimate('availability')).toMatch(
      /99\.99%\s+8\.64 s\s+~1\.01 minutes\s+4\.38 minutes\s+~52\.6 minutes/,
    );
  });

  it('writes a chapter estimate as a whiteboard derivation', () => {
    const text = renderEstimate('09-url-shortener');
    expect(text).toContain('writesPerSecond = urlsPerDay / secondsPerDay\n');
    expect(text).toContain('                = 100 million / 86,400\n');
    expect(text).toContain('                = ~1,157 req/s\n');
    expect(text).toContain('book: "100 mil URLs per day -> ~1200 URLs per second" (2 significant figures): agrees');
    expect(text).toContain('= 36.5 TB');
    expect(text).not.toContain('DIFFERS');
  });

  it('shows the Twitter example with the book’s figures and our reading', () => {
    const text = renderEstimate('twitter');
    expect(text).toContain('= ~3,472 tweets/s');
    expect(text).toContain('= 30 TB');
    expect(text).toContain('= ~54.8 PB');
    expect(text).toContain('read as 551 billion tweets');
    expect(text).not.toContain('DIFFERS');
  });

  it('rejects an unknown topic, listing the valid ones', () => {
    expect(() => renderEstimate('facebook')).toThrow(
      `Unknown estimate topic "facebook". Valid topics: ${estimateTopics.join(', ')}`,
    );
    expect(() => renderEstimate('constructor')).toThrow(/Valid topics/);
  });
});

describe('specs/03-back-of-the-envelope/catalog.yaml', () => {
  it('lists BOE-E1..E6 as estimate checks', () => {
    const file = fileURLToPath(new URL('../../specs/03-back-of-the-envelope/catalog.yaml', import.meta.url));
    const catalog = parseCatalog(readFileSync(file, 'utf8'), file);
    expect(catalog.chapter).toBe('03-back-of-the-envelope');
    expect(catalog.checks.map((c) => [c.id, c.kind])).toEqual(
      ['BOE-E1', 'BOE-E2', 'BOE-E3', 'BOE-E4', 'BOE-E5', 'BOE-E6'].map((id) => [id, 'estimate']),
    );
    expect(catalog.targets).toEqual([]);
  });
});
