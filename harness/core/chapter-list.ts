// Every chapter of the two books, by slug (the file names of the book's chapters). The slug is the folder name in
// specs/, reference/, harness/chapters/, load/ and fixtures/. A chapter is "built" when specs/<slug>/catalog.yaml exists.

export interface ChapterInfo {
  slug: string;
  title: string;
}

export const chapterList: readonly ChapterInfo[] = [
  { slug: '02-scale-from-zero', title: 'Scale from zero to millions of users' },
  { slug: '03-back-of-the-envelope', title: 'Back-of-the-envelope estimation' },
  { slug: '04-interview-framework', title: 'A framework for system design interviews' },
  { slug: '05-rate-limiter', title: 'Rate limiter' },
  { slug: '06-consistent-hashing', title: 'Consistent hashing' },
  { slug: '07-key-value-store', title: 'Key-value store' },
  { slug: '08-unique-id-generator', title: 'Unique ID generator' },
  { slug: '09-url-shortener', title: 'URL shortener' },
  { slug: '10-web-crawler', title: 'Web crawler' },
  { slug: '11-notification-system', title: 'Notification system' },
  { slug: '12-news-feed', title: 'News feed' },
  { slug: '13-chat-system', title: 'Chat system' },
  { slug: '14-search-autocomplete', title: 'Search autocomplete' },
  { slug: '15-youtube', title: 'YouTube' },
  { slug: '16-google-drive', title: 'Google Drive' },
  { slug: '17-proximity-service', title: 'Proximity service' },
  { slug: '18-nearby-friends', title: 'Nearby friends' },
  { slug: '19-google-maps', title: 'Google Maps' },
  { slug: '20-distributed-message-queue', title: 'Distributed message queue' },
  { slug: '21-metrics-monitoring', title: 'Metrics monitoring and alerting' },
  { slug: '22-ad-click-aggregation', title: 'Ad click event aggregation' },
  { slug: '23-hotel-reservation', title: 'Hotel reservation' },
  { slug: '24-distributed-email', title: 'Distributed email service' },
  { slug: '25-s3-object-storage', title: 'S3-like object storage' },
  { slug: '26-gaming-leaderboard', title: 'Real-time gaming leaderboard' },
  { slug: '27-payment-system', title: 'Payment system' },
  { slug: '28-digital-wallet', title: 'Digital wallet' },
  { slug: '29-stock-exchange', title: 'Stock exchange' },
];
