// The chapters the harness can grade. Adding a chapter: `sdgrade new-chapter NN-slug`, then list it here and in
// graded-slugs.ts (the CLI's help and `list` read that one, so they need not load every chapter).

import { rateLimiter } from './05-rate-limiter/index.ts';
import { consistentHashing } from './06-consistent-hashing/index.ts';
import { keyValueStore } from './07-key-value-store/index.ts';
import { uniqueIdGenerator } from './08-unique-id-generator/index.ts';
import { urlShortener } from './09-url-shortener/index.ts';
import { webCrawler } from './10-web-crawler/index.ts';
import { chatSystem } from './13-chat-system/index.ts';
import { distributedMessageQueue } from './20-distributed-message-queue/index.ts';
import { hotelReservation } from './23-hotel-reservation/index.ts';
import { s3ObjectStorage } from './25-s3-object-storage/index.ts';
import { gamingLeaderboard } from './26-gaming-leaderboard/index.ts';
import { paymentSystem } from './27-payment-system/index.ts';
import { stockExchange } from './29-stock-exchange/index.ts';
import type { ChapterModule } from './chapter-module.ts';

export const chapters: readonly ChapterModule[] = [
  rateLimiter as ChapterModule,
  consistentHashing as ChapterModule,
  keyValueStore as ChapterModule,
  uniqueIdGenerator as ChapterModule,
  urlShortener as ChapterModule,
  webCrawler as ChapterModule,
  chatSystem as ChapterModule,
  distributedMessageQueue as ChapterModule,
  hotelReservation as ChapterModule,
  s3ObjectStorage as ChapterModule,
  gamingLeaderboard as ChapterModule,
  paymentSystem as ChapterModule,
  stockExchange as ChapterModule,
];

export function chapterModule(slug: string): ChapterModule {
  const m = chapters.find((c) => c.slug === slug || c.slug.slice(3) === slug || c.slug.slice(0, 2) === slug);
  if (!m) {
    throw new Error(`no graded chapter "${slug}"; graded chapters: ${chapters.map((c) => c.slug).join(', ')}`);
  }
  return m;
}
