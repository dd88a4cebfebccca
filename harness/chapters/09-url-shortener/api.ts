// The chapter's operations through the client typed from the spec (openapi-fetch), each returning the validated
// exchange so checks can attach it as evidence. A network error comes back as an exchange with `error` set.

import type { components, paths } from '../../../specs/09-url-shortener/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import { type Exchange, exchangeFrom, type HttpClient } from '../../core/http-client.ts';
import { acknowledgedLinks } from './acknowledged-links.ts';

export type Link = components['schemas']['Link'];
export type LinkStats = components['schemas']['LinkStats'];

/** Every link a shorten acknowledges is recorded in the run's registry, for the fault checks to re-read. */
export function urlApi(ctx: CheckContext, http: HttpClient = ctx.http) {
  const client = http.typed<paths>();
  const acknowledged = acknowledgedLinks(ctx.target);
  return {
    async shorten(longUrl: string): Promise<{ x: Exchange; link: Link | null }> {
      const x = await exchangeFrom(client.POST('/api/v1/data/shorten', { body: { longUrl } }));
      const ok = x.status === 200 || x.status === 201;
      const link = ok ? (x.body as Link) : null;
      if (typeof link?.code === 'string') acknowledged.record(link.code, longUrl);
      return { x, link };
    },
    follow(code: string): Promise<Exchange> {
      return exchangeFrom(client.GET('/api/v1/{code}', { params: { path: { code } } }));
    },
    async stats(code: string): Promise<{ x: Exchange; stats: LinkStats | null }> {
      const x = await exchangeFrom(client.GET('/api/v1/data/links/{code}', { params: { path: { code } } }));
      return { x, stats: x.status === 200 ? (x.body as LinkStats) : null };
    },
  };
}

export type UrlApi = ReturnType<typeof urlApi>;

export function runNonce(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
