// The HTTP surface of chapter 09: handlers by operationId; routes, validation and errors come from the spec (kit).
import type { FastifyInstance } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import type { MutantName } from './mutants.ts';
import type { Shortener } from './shortener.ts';
import type { LinkRecord } from './store.ts';

export const SPEC_URL = new URL('../../specs/09-url-shortener/openapi.yaml', import.meta.url);

export interface UrlAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  shortener: Shortener;
  /** The public base of short URLs, without a trailing slash (known only once listening when PORT=0). */
  baseUrl: () => string;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

export function buildApp(options: UrlAppOptions): FastifyInstance {
  const { shortener, baseUrl, mutant } = options;
  const linkBody = (link: LinkRecord) => ({
    code: link.code,
    shortUrl: `${baseUrl()}/api/v1/${link.code}`,
    longUrl: link.longUrl,
  });
  /** MUTANT create-before-validate: links stored before validation, by request. */
  const createdEarly = new WeakMap<object, Awaited<ReturnType<Shortener['shorten']>>>();
  const notFound = (code: string) => new ProblemError(404, 'not_found', `no short URL ${code}`);

  const app = createApp({
    spec: options.spec,
    readiness: options.readiness,
    logger: options.logger,
    handlers: {
      async shortenUrl(request, reply) {
        const { longUrl } = request.body as { longUrl: string };
        const { link, created } = createdEarly.get(request) ?? (await shortener.shorten(longUrl));
        if (!created) return reply.code(200).send(linkBody(link));
        // MUTANT status-200-on-create: a new link answered 200 like a known one.
        return reply
          .code(mutant === 'status-200-on-create' ? 200 : 201)
          .header('location', `${baseUrl()}/api/v1/data/links/${link.code}`)
          .send(linkBody(link));
      },

      async followShortUrl(request, reply) {
        const { code } = request.params as { code: string };
        const longUrl = await shortener.follow(code);
        if (longUrl === undefined) {
          if (mutant === 'unknown-redirects-home') {
            // MUTANT unknown-redirects-home: a never-issued code redirects to the home page instead of 404.
            return reply
              .code(302)
              .header('location', `${baseUrl()}/`)
              .header('cache-control', 'private, no-store')
              .send();
          }
          throw notFound(code);
        }
        // Location is the long URL byte for byte; new URL(longUrl).href would lower-case, re-encode, add a slash.
        const location = mutant === 'normalised-location' ? new URL(longUrl).href : longUrl; // MUTANT normalised-location
        return reply
          .code(mutant === 'redirect-301' ? 301 : 302) // MUTANT redirect-301: browsers cache it, clicks go uncounted
          .header('location', location)
          .header('cache-control', 'private, no-store')
          .send();
      },

      async getLink(request, reply) {
        const { code } = request.params as { code: string };
        const link = await shortener.stats(code);
        if (!link) throw notFound(code);
        const body: Record<string, unknown> = {
          ...linkBody(link),
          createdAt: link.createdAt.toISOString(),
          clicks: link.clicks,
        };
        if (mutant === 'stats-without-clicks') delete body['clicks']; // MUTANT stats-without-clicks
        return reply.code(200).send(body);
      },
    },
  });
  if (mutant === 'location-names-short-url' || mutant === 'short-url-from-host') {
    app.addHook('preSerialization', async (request, reply, payload: unknown) => {
      if (request.routeOptions.url !== '/api/v1/data/shorten' || reply.statusCode >= 300) return payload;
      const link = payload as { code: string; shortUrl: string };
      // MUTANT location-names-short-url: the 201's Location is the short URL, not the link's metadata resource.
      if (mutant === 'location-names-short-url' && reply.statusCode === 201) reply.header('location', link.shortUrl);
      // MUTANT short-url-from-host: the short URL's base is taken from the client's Host header.
      if (mutant === 'short-url-from-host') {
        return { ...link, shortUrl: `${request.protocol}://${request.host}/api/v1/${link.code}` };
      }
      return payload;
    });
  }
  if (mutant === 'create-before-validate') {
    // MUTANT create-before-validate: the link is stored as soon as the body parses, before the request is checked
    // against the schema; a request then rejected (an unknown property, say) still leaves its link behind.
    app.addHook('preValidation', async (request) => {
      const longUrl = (request.body as { longUrl?: unknown } | undefined)?.longUrl;
      if (request.routeOptions.url !== '/api/v1/data/shorten' || typeof longUrl !== 'string') return;
      const early = await shortener.shorten(longUrl).catch(() => undefined);
      if (early) createdEarly.set(request, early);
    });
  }
  if (mutant === 'userinfo-refused') {
    // MUTANT userinfo-refused: a long URL with credentials is refused as a phishing risk, though the schema allows it.
    app.addHook('preHandler', async (request) => {
      const longUrl = (request.body as { longUrl?: unknown } | undefined)?.longUrl;
      if (request.routeOptions.url !== '/api/v1/data/shorten' || typeof longUrl !== 'string') return;
      const url = URL.parse(longUrl);
      if (url && (url.username !== '' || url.password !== '')) {
        throw new ProblemError(400, 'invalid_url', 'longUrl must not carry credentials');
      }
    });
  }
  if (mutant === 'click-before-lookup') {
    // MUTANT click-before-lookup: a redirect is counted whatever its answer, so a 404 for a code not issued yet is a
    // click on the link that takes that code next.
    app.addHook('onSend', async (request, reply) => {
      if (request.routeOptions.url === '/api/v1/:code' && reply.statusCode === 404) {
        shortener.countClick((request.params as { code: string }).code);
      }
    });
  }
  return app;
}
