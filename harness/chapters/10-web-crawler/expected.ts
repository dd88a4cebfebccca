// What a correct crawl of the web under test fetches, computed from the model alone (independently of any crawler):
// the checks compare the web's request log and the job's pages with it.
import { DOMAIN, MAX_URL_LENGTH, TRAPS, type WebModel } from './web.ts';

export const isTrap = (host: string, path: string): boolean =>
  TRAPS.some((t) => t.host === host && path.startsWith(t.prefix));

/** The URLs (host + path) a correct crawl of the model fetches, trap pages left out, with maxDepth >= 4. */
export function expectedFetches(model: WebModel, seed: string, maxDepth: number): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>([seed]);
  let level = [seed];
  for (let depth = 0; level.length > 0 && depth <= maxDepth; depth++) {
    const next: string[] = [];
    for (const url of level) {
      const u = new URL(url);
      if (model.disallowed(u.hostname, u.pathname)) continue;
      if (!isTrap(u.hostname, u.pathname)) out.add(`${u.hostname}${u.pathname}`);
      const r = model.respond(u.hostname, u.pathname);
      if (depth === maxDepth) continue;
      let links: string[] = [];
      if (r.kind === 'redirect') links = [new URL(r.location, url).href];
      if (r.kind === 'html') links = hrefsOf(typeof r.body === 'string' ? r.body : r.body.toString('latin1'), url);
      for (const l of links) {
        const v = new URL(l);
        v.hash = '';
        if (!/^https?:$/.test(v.protocol) || !(v.hostname === DOMAIN || v.hostname.endsWith(`.${DOMAIN}`))) continue;
        if (v.href.length > MAX_URL_LENGTH) continue;
        if (seen.has(v.href)) continue;
        seen.add(v.href);
        next.push(v.href);
      }
    }
    level = next;
  }
  return out;
}

/** The model's own link reading: it knows how it wrote its pages (href="..", href='..', href=.., <base href>). */
function hrefsOf(body: string, pageUrl: string): string[] {
  const base = /<base href="([^"]+)"/i.exec(body);
  const against = base ? new URL(base[1]!, pageUrl).href : pageUrl;
  const out: string[] = [];
  for (const m of body.matchAll(/<a [^>]*?href=(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const href = (m[1] ?? m[2] ?? m[3]!).replace(/&amp;/g, '&');
    try {
      out.push(new URL(href, against).href);
    } catch {}
  }
  return out;
}
