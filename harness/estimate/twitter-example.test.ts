import { describe, expect, it } from 'vitest';
import { matchesBook } from './book-figure.ts';
import { twitterExample } from './twitter-example.ts';

const d = twitterExample.derived;
const agrees = (name: keyof typeof d): boolean => {
  const entry = d[name];
  if (!('book' in entry) || !entry.book) throw new Error(`${name} has no book figure`);
  return matchesBook(entry.quantity.value, entry.book);
};

describe('BOE-E1 Twitter QPS', () => {
  it('BOE-E1 150 million daily users post 300 million tweets a day', () => {
    expect(d.dailyActiveUsers.quantity.value).toBe(150e6);
    expect(d.tweetsPerDay.quantity.value).toBe(300e6);
    expect(agrees('dailyActiveUsers')).toBe(true);
    expect(agrees('tweetsPerDay')).toBe(true);
  });

  it('BOE-E1 Twitter write QPS is about 3,500 (book: 3400-3600 tweets per second)', () => {
    const qps = d.tweetsPerSecond.quantity.value;
    expect(qps).toBeCloseTo(300e6 / 86_400, 9);
    expect(qps).toBeGreaterThanOrEqual(3400);
    expect(qps).toBeLessThanOrEqual(3600);
    expect(matchesBook(qps, { text: 'about 3,500', value: 3500, sigFigs: 2 })).toBe(true);
    expect(agrees('tweetsPerSecond')).toBe(true);
    expect(d.tweetsPerSecond.quantity.formula).toBe('tweetsPerDay / secondsPerDay');
  });

  it('BOE-E1 peak QPS is twice the average, 7,000 at the book’s rounding', () => {
    expect(d.peakTweetsPerSecond.quantity.value).toBeCloseTo(6944.44, 2);
    expect(d.peakTweetsPerSecond.quantity.inputs).toMatchObject({ peakFactor: 2 });
    expect(agrees('peakTweetsPerSecond')).toBe(true);
  });
});

describe('BOE-E2 media storage', () => {
  it('BOE-E2 30 million media a day of 1 MB is 30 TB a day', () => {
    expect(d.mediaPerDay.quantity.value).toBe(30e6);
    expect(d.mediaBytesPerDay.quantity.value).toBe(30e12);
    expect(agrees('mediaPerDay')).toBe(true);
    expect(agrees('mediaBytesPerDay')).toBe(true);
  });

  it('BOE-E2 five years of media is about 55 PB', () => {
    expect(d.mediaBytes5Years.quantity.value).toBeCloseTo(54.75e15, -6);
    expect(agrees('mediaBytes5Years')).toBe(true);
  });
});

describe('BOE-E3 tweet storage', () => {
  it('BOE-E3 a tweet is 64 + 140 + 1000 = 1,204 bytes', () => {
    expect(d.tweetBytes.quantity.value).toBe(1204);
  });

  it('BOE-E3 "3500 * 60 * 60 * 24 = 302mb per day" is 302.4 million tweets a day', () => {
    expect(d.bookTweetsPerDay.quantity.value).toBe(302_400_000);
    expect(agrees('bookTweetsPerDay')).toBe(true);
  });

  it('BOE-E3 "302 * 365 * 5 == 551gb" is about 551 billion tweets', () => {
    expect(302 * 365 * 5).toBe(551_150);
    expect(d.bookTweets5Years.quantity.value).toBe(551.15e9);
    expect(agrees('bookTweets5Years')).toBe(true);
  });

  it('BOE-E3 the bytes those counts imply at 1,204 bytes a tweet', () => {
    expect(d.bookTweetBytesPerDay.quantity.value).toBeCloseTo(364.0896e9, -3);
    expect(d.bookTweetBytes5Years.quantity.value).toBeCloseTo(663.5846e12, -6);
    expect(d.tweets5Years.quantity.value).toBe(547.5e9);
    expect(d.tweetBytesPerDay.quantity.value).toBe(361.2e9);
    expect(d.tweetBytes5Years.quantity.value).toBeCloseTo(659.19e12, -6);
  });

  it('BOE-E3 the book’s literal units cannot be bytes: 302 MB a day holds about 250,831 tweets, not 300 million', () => {
    const tweetsIn302MB = 302e6 / d.tweetBytes.quantity.value;
    expect(Math.round(tweetsIn302MB)).toBe(250_831);
    expect(tweetsIn302MB / d.tweetsPerDay.quantity.value).toBeLessThan(0.001);
    expect(twitterExample.notes.join(' ')).toContain('~250,831');
    expect(twitterExample.notes.join(' ')).toContain('~364.1 GB');
    expect(twitterExample.notes.join(' ')).toContain('~663.6 TB');
  });

  it('BOE-E3 every book figure in the example is reproduced, none by adjustment', () => {
    for (const [name, entry] of Object.entries(d)) {
      if ('book' in entry && entry.book) expect(matchesBook(entry.quantity.value, entry.book), name).toBe(true);
    }
  });
});
