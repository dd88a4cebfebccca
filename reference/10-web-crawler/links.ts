// Link extraction with a real HTML parser (htmlparser2: lenient, streaming, handles malformed markup as browsers
// do) and the URL filter: absolute, http(s), no fragment, allowed domain, at most 2048 characters.
import { Parser } from 'htmlparser2';

export const MAX_URL_LENGTH = 2048;

/** The raw hrefs of <a> and <area>, and the first <base href> (which changes what relative links resolve against). */
export function extractHrefs(html: string): { hrefs: string[]; base: string | null } {
  const hrefs: string[] = [];
  let base: string | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if ((name === 'a' || name === 'area') && attrs['href'] !== undefined) hrefs.push(attrs['href']);
        else if (name === 'base' && base === null && attrs['href'] !== undefined) base = attrs['href'];
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { hrefs, base };
}

export function hostAllowed(host: string, allowedDomains: readonly string[]): boolean {
  return allowedDomains.some((d) => host === d || host.endsWith(`.${d}`));
}

/** A normalised absolute URL, or null when the filter drops it. */
export function normalise(href: string, base: string, allowedDomains: readonly string[]): string | null {
  let u: URL;
  try {
    u = new URL(href.trim(), base);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  u.hash = '';
  if (!hostAllowed(u.hostname, allowedDomains)) return null;
  const s = u.href;
  return s.length <= MAX_URL_LENGTH ? s : null;
}

/** The page's links, resolved against its <base href> (itself resolved against the page) or else the page URL. */
export function pageLinks(
  html: string,
  pageUrl: string,
  allowedDomains: readonly string[],
  wrongBase = false,
  lengthRule: LengthRule = 'limit',
): string[] {
  const { hrefs, base } =
    lengthRule === 'base-from-any-href' || lengthRule === 'entities-not-decoded' // MUTANT (both)
      ? extractHrefsMutated(html, lengthRule)
      : extractHrefs(html);
  let resolveAgainst = pageUrl;
  if (base !== null) {
    try {
      resolveAgainst = new URL(base, pageUrl).href;
    } catch {}
  }
  // MUTANT wrong-base: relative links resolved against the site's root, not the page (or its base).
  if (wrongBase) resolveAgainst = new URL('/', pageUrl).href;
  const out: string[] = [];
  for (const h of hrefs) {
    const n =
      lengthRule === 'url-length-unchecked'
        ? withoutLengthLimit(h, resolveAgainst, allowedDomains)
        : normalise(h, resolveAgainst, allowedDomains);
    if (lengthRule === 'url-length-exclusive' && n?.length === MAX_URL_LENGTH) continue;
    if (n !== null && !out.includes(n)) out.push(n);
  }
  return out;
}

/** The URL filter's length rule: the spec's (at most MAX_URL_LENGTH), or a mutant's (below it; none; the base's). */
export type LengthRule =
  | 'limit'
  | 'url-length-exclusive'
  | 'url-length-unchecked'
  | 'base-from-any-href'
  | 'entities-not-decoded';

/**
 * MUTANT base-from-any-href: the base is the href of any element that is not a link (`<link>`, `<base>`), the last.
 * MUTANT entities-not-decoded: hrefs taken as written, `&amp;` and the other character references left in them.
 */
function extractHrefsMutated(
  html: string,
  rule: 'base-from-any-href' | 'entities-not-decoded',
): { hrefs: string[]; base: string | null } {
  const hrefs: string[] = [];
  let base: string | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if ((name === 'a' || name === 'area') && attrs['href'] !== undefined) hrefs.push(attrs['href']);
        else if (rule === 'base-from-any-href' ? attrs['href'] !== undefined : name === 'base' && base === null)
          base = attrs['href'] ?? null;
      },
    },
    { decodeEntities: rule !== 'entities-not-decoded', lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { hrefs, base };
}

/** MUTANT url-length-unchecked: the URL filter with no length limit. */
function withoutLengthLimit(href: string, base: string, allowedDomains: readonly string[]): string | null {
  let u: URL;
  try {
    u = new URL(href.trim(), base);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !hostAllowed(u.hostname, allowedDomains)) return null;
  u.hash = '';
  return u.href;
}
