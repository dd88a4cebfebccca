// The web a load test crawls: many hosts on loopback (l0.load.test ...), each an endless tree of small HTML pages
// made on demand (page n links to 3n+1..3n+3 on its host), so a crawl never runs dry within its measured window and
// its pace is set by the crawler and the politeness delay alone. The seed (l0's root) links to every host's root,
// so every host has work from depth 1 on. robots.txt answers 404 (no rules) everywhere. Served by WebUnderTest,
// whose request log gives the pages per second.
import type { WebModel } from './web.ts';

export const LOAD_DOMAIN = 'load.test';
export const loadHost = (i: number) => `l${i}.${LOAD_DOMAIN}`;
/** Children per page: enough that each host's back queue stays full. */
const FANOUT = 3;
/** Filler text, so a page is a page (about 1 KB) and not a bare list of links. */
const FILLER = 'A polite crawler fetches one page of a host at a time and waits between them. '.repeat(12);

export function loadWeb(hostCount: number): WebModel {
  const hosts = Array.from({ length: hostCount }, (_, i) => loadHost(i));
  const known = new Set(hosts);
  const html = (title: string, links: string[]) =>
    `<!doctype html><html><head><title>${title}</title></head>\n<body><h1>${title}</h1><p>${FILLER}</p><ul>${links
      .map((l) => `<li><a href="${l}">${l}</a></li>`)
      .join('')}</ul></body></html>`;
  const children = (n: number) => Array.from({ length: FANOUT }, (_, k) => `/p${FANOUT * n + k + 1}.html`);
  return {
    hosts,
    respond(host, path) {
      if (!known.has(host)) return { kind: 'status', status: 404 };
      if (path === '/') {
        const links = children(0);
        if (host === hosts[0]) links.push(...hosts.map((h) => `http://${h}/`));
        return { kind: 'html', body: html(`root of ${host}`, links) };
      }
      const m = /^\/p(\d+)\.html$/.exec(path);
      if (!m) return { kind: 'status', status: 404 };
      return { kind: 'html', body: html(`${host} page ${m[1]}`, children(Number(m[1]))) };
    },
    robotsTxt: () => null,
    disallowed: () => false,
  };
}
