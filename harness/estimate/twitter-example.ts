// The book's worked example (chapter 3): Twitter QPS and storage, recomputed from the book's stated assumptions.
// The tweet-storage lines of the book print counts with byte units ("302mb per day" is 302 million tweets), so
// both the book's literal figures and our reading - with the bytes they imply - are kept side by side.
import type { EstimateSet } from './estimate-set.ts';
import { formatBytes, formatInput, renameInputs } from './quantity.ts';
import { DAYS_PER_YEAR, peak, perSecond, product, SECONDS_PER_DAY, sum } from './rates.ts';

export const twitterAssumptions = {
  monthlyActiveUsers: { value: 300e6, unit: 'users', book: '300mil MAU' },
  dailyActiveShare: { value: 0.5, unit: 'ratio', book: '50% of users use twitter daily' },
  tweetsPerUserPerDay: { value: 2, unit: 'tweets/user/day', book: 'Users post 2 tweets per day on average' },
  mediaShare: { value: 0.1, unit: 'ratio', book: '10% of tweets contain media' },
  mediaBytes: { value: 1e6, unit: 'bytes', book: 'we assume 1mb per media (decimal: 1 MB = 10^6 bytes)' },
  retentionYears: { value: 5, unit: 'years', book: 'Data is stored for 5y' },
  tweetIdBytes: { value: 64, unit: 'bytes', book: '64byte id' },
  tweetTextBytes: { value: 140, unit: 'bytes', book: '140 bytes text' },
  tweetMetadataBytes: { value: 1000, unit: 'bytes', book: '1000 bytes metadata' },
  bookTweetsPerSecond: { value: 3500, unit: 'tweets/s', book: '3500 * 60 * 60 * 24 (the book rounds QPS to 3,500)' },
  bookTweetsPerDayMillions: { value: 302, unit: 'million tweets/day', book: '302 * 365 * 5 (the book rounds to 302)' },
} as const;

const percentHigh = (value: number, base: number): string => `${((value / base - 1) * 100).toFixed(1)}%`;

function buildTwitterExample() {
  const a = twitterAssumptions;
  const years = a.retentionYears.value;

  const dailyActiveUsers = product(
    { monthlyActiveUsers: a.monthlyActiveUsers.value, dailyActiveShare: a.dailyActiveShare.value },
    'users',
  );
  const tweetsPerDay = product(
    { dailyActiveUsers: dailyActiveUsers.value, tweetsPerUserPerDay: a.tweetsPerUserPerDay.value },
    'tweets/day',
  );
  const tweetsPerSecond = renameInputs(perSecond(tweetsPerDay.value, 'tweets/s'), { countPerDay: 'tweetsPerDay' });
  const peakTweetsPerSecond = renameInputs(peak(tweetsPerSecond, 2), { avgPerSecond: 'tweetsPerSecond' });
  const mediaPerDay = product({ tweetsPerDay: tweetsPerDay.value, mediaShare: a.mediaShare.value }, 'media/day');
  const mediaBytesPerDay = product({ mediaPerDay: mediaPerDay.value, mediaBytes: a.mediaBytes.value }, 'bytes');
  const mediaBytes5Years = product(
    { mediaBytesPerDay: mediaBytesPerDay.value, daysPerYear: DAYS_PER_YEAR, years },
    'bytes',
  );
  const tweetBytes = sum(
    {
      tweetIdBytes: a.tweetIdBytes.value,
      tweetTextBytes: a.tweetTextBytes.value,
      tweetMetadataBytes: a.tweetMetadataBytes.value,
    },
    'bytes',
  );
  // The book's two tweet-storage expressions, computed literally with its rounded inputs (3,500/s and 302).
  const bookTweetsPerDay = product(
    { bookTweetsPerSecond: a.bookTweetsPerSecond.value, secondsPerDay: SECONDS_PER_DAY },
    'tweets/day',
  );
  const bookTweets5Years = product(
    { bookTweetsPerDay: a.bookTweetsPerDayMillions.value * 1e6, daysPerYear: DAYS_PER_YEAR, years },
    'tweets',
  );
  // The bytes those counts imply at the stated tweet size.
  const bookTweetBytesPerDay = product(
    { bookTweetsPerDay: bookTweetsPerDay.value, tweetBytes: tweetBytes.value },
    'bytes',
  );
  const bookTweetBytes5Years = product(
    { bookTweets5Years: bookTweets5Years.value, tweetBytes: tweetBytes.value },
    'bytes',
  );
  // The same from the unrounded rate (300 million tweets a day).
  const tweets5Years = product({ tweetsPerDay: tweetsPerDay.value, daysPerYear: DAYS_PER_YEAR, years }, 'tweets');
  const tweetBytesPerDay = product({ tweetsPerDay: tweetsPerDay.value, tweetBytes: tweetBytes.value }, 'bytes');
  const tweetBytes5Years = product({ tweets5Years: tweets5Years.value, tweetBytes: tweetBytes.value }, 'bytes');

  const tweetsInLiteral302MB = 302e6 / tweetBytes.value;

  return {
    slug: 'twitter',
    title: 'Twitter QPS and storage (the book’s worked example)',
    source: 'Chapter 3, "Example - estimate Twitter QPS and storage requirements"',
    assumptions: twitterAssumptions,
    derived: {
      dailyActiveUsers: { quantity: dailyActiveUsers, book: { text: '150mil', value: 150e6 } },
      tweetsPerDay: {
        quantity: tweetsPerDay,
        book: { text: '150mil * 2 (and "300mil * 10%" for media)', value: 300e6 },
      },
      tweetsPerSecond: {
        quantity: tweetsPerSecond,
        book: { text: '3400-3600 tweets per second', value: 3500, sigFigs: 2, range: [3400, 3600] },
      },
      peakTweetsPerSecond: {
        quantity: peakTweetsPerSecond,
        book: { text: 'peak=7000 TPS', value: 7000, sigFigs: 1 },
        note:
          `The book doubles its rounded 3,500; doubling ${formatInput(tweetsPerSecond.value)} gives ` +
          `${formatInput(peakTweetsPerSecond.value)}, which rounds to the same 7,000.`,
      },
      mediaPerDay: {
        quantity: mediaPerDay,
        book: { text: '300mil * 10% == 30mil media storage per day', value: 30e6 },
      },
      mediaBytesPerDay: { quantity: mediaBytesPerDay, book: { text: '30mil * 1mb = 30tb per day', value: 30e12 } },
      mediaBytes5Years: {
        quantity: mediaBytes5Years,
        book: { text: '30tb * 365 * 5 == 55pb', value: 55e15, sigFigs: 2 },
      },
      tweetBytes: { quantity: tweetBytes, note: 'The book lists the parts but not the sum.' },
      bookTweetsPerDay: {
        quantity: bookTweetsPerDay,
        book: {
          text: '3500 * 60 * 60 * 24 = 302mb per day',
          value: 302e6,
          sigFigs: 3,
          reading: '302 million tweets a day ("mb" = million)',
        },
      },
      bookTweets5Years: {
        quantity: bookTweets5Years,
        book: {
          text: '302 * 365 * 5 == 551gb in 5y',
          value: 551e9,
          sigFigs: 3,
          reading: '551 billion tweets ("gb" = billion)',
        },
      },
      bookTweetBytesPerDay: {
        quantity: bookTweetBytesPerDay,
        note: 'Not in the book: the bytes its 302 million tweets a day take at 1,204 bytes each.',
      },
      bookTweetBytes5Years: {
        quantity: bookTweetBytes5Years,
        note: 'Not in the book: the bytes its 551 billion tweets take at 1,204 bytes each.',
      },
      tweets5Years: {
        quantity: tweets5Years,
        note: `From the unrounded ${formatInput(tweetsPerDay.value)} a day (${formatInput(tweetsPerSecond.value)}/s), not 3,500/s.`,
      },
      tweetBytesPerDay: { quantity: tweetBytesPerDay, note: 'Not in the book; from the unrounded rate.' },
      tweetBytes5Years: { quantity: tweetBytes5Years, note: 'Not in the book; from the unrounded rate.' },
    },
    notes: [
      'The book’s tweet-storage lines give counts with byte units. "3500 * 60 * 60 * 24" is ' +
        `${formatInput(bookTweetsPerDay.value)} (tweets a day, not megabytes) and "302 * 365 * 5" is ` +
        `${formatInput(302 * DAYS_PER_YEAR * years)} (millions of tweets: ${formatInput(bookTweets5Years.value)}), ` +
        'not 551 gigabytes.',
      `At the stated ${formatInput(tweetBytes.value)} bytes a tweet those counts are ${formatBytes(bookTweetBytesPerDay.value)} a day ` +
        `and ${formatBytes(bookTweetBytes5Years.value)} in ${years} years. Read as bytes, "302mb" a day would hold only ` +
        `${formatInput(tweetsInLiteral302MB)} such tweets, not ${formatInput(tweetsPerDay.value)}.`,
      `The book uses the rounded 3,500 tweets/s; the assumptions give ${formatInput(tweetsPerDay.value)} tweets a ` +
        `day (${formatInput(tweetsPerSecond.value)}/s), so its daily count runs ${percentHigh(bookTweetsPerDay.value, tweetsPerDay.value)} high. ` +
        `From the unrounded rate: ${formatInput(tweets5Years.value)} tweets and ${formatBytes(tweetBytes5Years.value)} ` +
        `in ${years} years.`,
    ],
  } satisfies EstimateSet;
}

export const twitterExample = buildTwitterExample();
export type TwitterQuantityName = keyof typeof twitterExample.derived;
