// Generators of long URLs as users send them, including the shapes a careless implementation rewrites (upper-case
// scheme, userinfo, default port, dot segments, percent-escapes of characters in and outside the BMP, punycode hosts, empty
// query, fragment), which the redirect must keep exactly.
import fc from 'fast-check';

const unreserved = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~'.split(''));
const segmentChar = fc.oneof(
  { weight: 8, arbitrary: unreserved },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%20',
      '%2F',
      '%41',
      '%e2%82%ac',
      '%F0%9F%98%80', // U+1F600, outside the BMP, as RFC 3986 writes it (a client percent-encodes it)
      '%f0%90%90%80', // U+10400, lower-case escapes kept as sent
      '!',
      '$',
      "'",
      '(',
      ')',
      '*',
      '+',
      ',',
      ';',
      '=',
      ':',
      '@',
    ),
  },
);
const segment = fc.array(segmentChar, { minLength: 0, maxLength: 12 }).map((a) => a.join(''));
const host = fc.oneof(
  fc.domain(),
  fc.constantFrom('EXAMPLE.com', 'www.systeminterview.com', '127.0.0.1', '[::1]', 'xn--bcher-kva.example'),
);
const scheme = fc.constantFrom('https', 'http', 'HTTPS', 'Http');
// userinfo before the host, which the spec's pattern allows: a link that carries it is a link like any other
// (blind bug userinfo-rejected refused it as a phishing risk).
const userinfo = fc.option(fc.constantFrom('user@', 'user:pa%24s@', 'a.b-c_d~@', 'Name:@'), { nil: '', freq: 2 });
const port = fc.option(fc.constantFrom(':80', ':443', ':8080', ':65535'), { nil: '' });
const path = fc
  .array(fc.oneof({ weight: 6, arbitrary: segment }, { weight: 1, arbitrary: fc.constantFrom('.', '..') }), {
    maxLength: 6,
  })
  .map((segs) => (segs.length ? `/${segs.join('/')}` : ''));
const query = fc.option(
  fc.array(fc.tuple(segment, segment), { maxLength: 4 }).map((kv) => `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`),
  { nil: '' },
);
const fragment = fc.option(
  segment.map((s) => `#${s}`),
  { nil: '' },
);

/** An absolute http(s) URL that the spec accepts (printable ASCII, at most 2048 characters). */
export const longUrl: fc.Arbitrary<string> = fc
  .tuple(scheme, userinfo, host, port, path, query, fragment)
  .map(([s, u, h, p, pa, q, f]) => `${s}://${u}${h}${p}${pa}${q}${f}`)
  .filter((u) => u.length <= 2048 && /^[!-~]+$/.test(u));

/** Makes a URL unique to this run, so "new link" expectations hold against a target that has seen earlier runs. */
export function unique(url: string, nonce: string): string {
  const hash = url.indexOf('#');
  const [head, frag] = hash >= 0 ? [url.slice(0, hash), url.slice(hash)] : [url, ''];
  return `${head}${head.includes('?') ? '&' : '?'}sdgrade=${nonce}${frag}`;
}

export const base62Alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
