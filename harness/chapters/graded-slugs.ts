// The slugs of the graded chapters, without loading their modules: the CLI's help texts and `list` need only the
// names, and importing registry.ts loads every chapter's checks (seconds). registry.test.ts keeps the two in step.
export const gradedSlugs: readonly string[] = [
  '05-rate-limiter',
  '06-consistent-hashing',
  '07-key-value-store',
  '08-unique-id-generator',
  '09-url-shortener',
  '10-web-crawler',
  '13-chat-system',
  '20-distributed-message-queue',
  '23-hotel-reservation',
  '25-s3-object-storage',
  '26-gaming-leaderboard',
  '27-payment-system',
  '29-stock-exchange',
];
