// The HTTP surface of chapter 10: handlers by operationId; routes, validation and errors come from the spec (kit).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type CreateAppOptions, createApp } from '../kit/create-app.ts';
import type { Readiness } from '../kit/health.ts';
import type { LoadedSpec } from '../kit/load-spec.ts';
import { ProblemError } from '../kit/problem.ts';
import { CrawlJob } from './crawler.ts';
import { hostAllowed } from './links.ts';
import type { MutantName } from './mutants.ts';
import type { CrawlStore, JobConfig, JobState } from './store.ts';

export const SPEC_URL = new URL('../../specs/10-web-crawler/openapi.yaml', import.meta.url);

export interface CrawlerAppOptions {
  spec: LoadedSpec;
  readiness: Readiness;
  store: CrawlStore;
  mutant?: MutantName | undefined;
  logger?: CreateAppOptions['logger'];
}

export interface CrawlerApp {
  app: FastifyInstance;
  /** Stops every job's loop (its state stays stored for the next start). */
  stop(): void;
}

function describe(job: CrawlJob) {
  const { row } = job;
  const { resolve: _r, ...config } = row.config;
  return {
    id: row.id,
    state: row.state,
    ...config,
    progress: { ...job.counts, frontier: job.frontier.size },
    createdAt: row.createdAt,
  };
}

export async function buildApp(o: CrawlerAppOptions): Promise<CrawlerApp> {
  const { store, mutant } = o;
  const jobs = new Map<string, CrawlJob>();
  let app: FastifyInstance | undefined;
  const log = (m: string) => app?.log.info(m);
  const launch = (job: CrawlJob) => {
    jobs.set(job.row.id, job);
    // MUTANT stopped-job-runs-after-restart: every job not done is started, the stopped ones included.
    if (job.row.state === 'running' || (mutant === 'stopped-job-runs-after-restart' && job.row.state === 'stopped'))
      job.start().catch((e: unknown) => app?.log.error({ err: e, crawl: job.row.id }, 'crawl loop failed'));
  };
  // Resume: every job found on disk is loaded; the running ones carry on from their stored frontier.
  // MUTANT done-jobs-not-reloaded: done jobs are left out at start (404 after a restart).
  for (const row of await store.jobs())
    if (mutant !== 'done-jobs-not-reloaded' || row.state !== 'done')
      launch(await CrawlJob.open(row, store, mutant, log));

  /**
   * Jobs whose create was not answered (the database lost mid-commit: startCrawl answered 503), each looked for once
   * the store answers again: a commit that landed unanswered runs its job now, not only after the next start.
   */
  const unanswered = new Set<CrawlJob>();
  const adopt = (job: CrawlJob) => {
    unanswered.add(job);
    job.isStored().then(
      (stored) => {
        unanswered.delete(job);
        if (!stored) return;
        log(`crawl ${job.row.id}: created though startCrawl could not say so; it runs`);
        launch(job);
      },
      () => unanswered.delete(job), // the process is closing: the next start loads it if it is stored
    );
  };

  // MUTANT db-loss-answers-500: a lost database escapes as a plain error (a 500), not as the store's 503 unavailable.
  const fromStore = <T>(p: Promise<T>): Promise<T> =>
    mutant === 'db-loss-answers-500'
      ? p.catch((e: unknown) => {
          throw new Error((e as Error).message);
        })
      : p;

  /** The listing-kept-when-stopped mutant's: listPages answers of jobs not running, by job, after and limit. */
  const keptListings = new Map<string, unknown>();
  const jobOr404 = (id: string): CrawlJob => {
    const j = jobs.get(id);
    if (!j) throw new ProblemError(404, 'crawl_not_found', `no crawl ${id}`);
    return j;
  };
  /** The job in the state a transition starts from, else 409 with the code; unknown jobs 404. */
  const jobIn = (id: string, from: JobState, code: string): CrawlJob => {
    // MUTANT unknown-as-conflict: an unknown job is treated as one in the wrong state (409, not 404).
    const j = mutant === 'unknown-as-conflict' ? jobs.get(id) : jobOr404(id);
    // MUTANT transition-unchecked: every transition is allowed, from any state.
    if (j?.row.state !== from && mutant !== 'transition-unchecked')
      throw new ProblemError(409, code, `crawl ${id} is ${j?.row.state ?? 'unknown'}, not ${from}`);
    if (!j) throw new ProblemError(404, 'crawl_not_found', `no crawl ${id}`);
    return j;
  };

  app = createApp({
    spec: o.spec,
    readiness: o.readiness,
    logger: o.logger,
    unvalidated: mutant === 'unvalidated-input' ? ['startCrawl'] : [], // MUTANT unvalidated-input
    handlers: {
      // MUTANT health-plain-text: readiness is not the documented body.
      ...(mutant === 'health-plain-text'
        ? { getReadiness: async (_q, reply) => reply.type('text/plain').send('ok') }
        : {}),

      async startCrawl(request, reply) {
        const b = request.body as Partial<JobConfig> & { seeds: string[] };
        const seeds: string[] = [];
        for (const s of b.seeds) {
          let u: URL;
          try {
            u = new URL(s);
          } catch {
            throw new ProblemError(422, 'invalid_seed', `seed ${s} is not an absolute URL`);
          }
          if (u.protocol !== 'http:' && u.protocol !== 'https:')
            throw new ProblemError(422, 'invalid_seed', `seed ${s} is not http(s)`);
          u.hash = '';
          if (!seeds.includes(u.href)) seeds.push(u.href);
        }
        const allowedDomains = b.allowedDomains ?? [...new Set(seeds.map((s) => new URL(s).hostname))];
        for (const s of seeds)
          if (!hostAllowed(new URL(s).hostname, allowedDomains))
            throw new ProblemError(422, 'invalid_seed', `seed ${s} is outside the allowed domains`);
        // MUTANT allowed-domains-first-seed: without allowedDomains only the first seed's host is allowed.
        if (
          mutant === 'allowed-domains-first-seed' &&
          b.allowedDomains === undefined &&
          seeds.some((s) => new URL(s).hostname !== new URL(seeds[0]!).hostname)
        )
          throw new ProblemError(422, 'invalid_seed', 'a seed is outside the allowed domains');
        const config: JobConfig = {
          seeds,
          allowedDomains,
          maxPages: b.maxPages ?? 1000,
          maxDepth: b.maxDepth ?? 16,
          politenessDelayMs: b.politenessDelayMs ?? 1000,
          fetchTimeoutMs: b.fetchTimeoutMs ?? 5000,
          userAgent: b.userAgent ?? 'sdgrade-crawler',
          resolve: b.resolve ?? null,
        };
        if (mutant === 'max-depth-zero-default' && config.maxDepth === 0) config.maxDepth = 16; // MUTANT max-depth-zero-default
        const row = {
          id: `c-${randomUUID()}`,
          config,
          state: 'running' as const,
          createdAt: new Date().toISOString(),
        };
        const queued = seeds.map((url) => ({ url, depth: mutant === 'seeds-at-depth-one' ? 1 : 0 })); // MUTANT seeds-at-depth-one
        // MUTANT created-job-left-idle: the job read back after its commit, outside the store's retry, and a create
        // that failed never looked at again (a stored job then waits for a restart to run).
        if (mutant === 'created-job-left-idle') {
          await fromStore(store.createJob(row, queued));
          const read = await CrawlJob.open(row, store, mutant, log);
          launch(read);
          return reply.code(201).send(describe(read));
        }
        // The job as created: no store call follows the commit, so a 201 is a job that runs.
        const job = CrawlJob.created(row, queued, store, mutant, log);
        try {
          await fromStore(store.createJob(row, queued));
        } catch (e) {
          adopt(job);
          throw e;
        }
        launch(job);
        return reply.code(201).send(describe(job));
      },

      async getCrawl(request, reply) {
        const { crawlId } = request.params as { crawlId: string };
        return reply.code(200).send(describe(jobOr404(crawlId)));
      },

      async stopCrawl(request, reply) {
        const { crawlId } = request.params as { crawlId: string };
        const job = jobIn(crawlId, 'running', 'crawl_not_running');
        // MUTANT stop-stored-after-pause: the job is stopped in memory first, so a 503 from the store leaves it stopped.
        if (mutant === 'stop-stored-after-pause') {
          job.row.state = 'stopped';
          await job.pause();
          await store.setState(crawlId, 'stopped');
          return reply.code(200).send(describe(job));
        }
        // Stored first: a crawler restarted from here on leaves the job stopped.
        if (mutant !== 'stop-not-stored') await store.setState(crawlId, 'stopped'); // MUTANT stop-not-stored
        job.row.state = 'stopped';
        // MUTANT stop-answers-early: the answer does not wait for the fetches in flight to end and be recorded.
        if (mutant === 'stop-answers-early') void job.pause();
        else await job.pause();
        return reply.code(200).send(describe(job));
      },

      async resumeCrawl(request, reply) {
        const { crawlId } = request.params as { crawlId: string };
        const job = jobIn(crawlId, 'stopped', 'crawl_not_stopped');
        if (mutant !== 'resume-not-stored') await store.setState(crawlId, 'running'); // MUTANT resume-not-stored
        job.row.state = 'running';
        await job.resume();
        return reply.code(200).send(describe(job));
      },

      async getContent(request, reply) {
        const { crawlId, contentHash } = request.params as { crawlId: string; contentHash: string };
        jobOr404(crawlId);
        // MUTANT contents-any-crawl: the content looked up by hash alone, so another job's content is served.
        const found = fromStore(store.content(crawlId, contentHash, mutant === 'contents-any-crawl'));
        // MUTANT content-store-error-not-found: a store error is taken for "no such content" (404, not 503).
        const c = await (mutant === 'content-store-error-not-found' ? found.catch(() => null) : found);
        if (!c) throw new ProblemError(404, 'content_not_found', `crawl ${crawlId} stored no content ${contentHash}`);
        // Only HTML pages are stored, so a recorded type is an HTML one; a row without its page falls back to HTML.
        const type = c.contentType ?? 'text/html';
        // MUTANT content-type-essence: the media type alone, its parameters (the charset) dropped.
        return reply
          .code(200)
          .type(mutant === 'content-type-essence' ? type.split(';')[0]!.trim() : type)
          .send(c.bytes);
      },

      async listPages(request, reply) {
        const { crawlId } = request.params as { crawlId: string };
        const q = request.query as { after?: number; limit?: number };
        const job = jobOr404(crawlId);
        // MUTANT limit-ignored: every page at once.
        const limit = mutant === 'limit-ignored' ? 1_000_000_000 : (q.limit ?? 500);
        // MUTANT listing-kept-when-stopped: a job not running is taken to record no more pages, so its listings are
        // kept and served again, after a resume too.
        const key = `${crawlId} ${q.after ?? 0} ${limit}`;
        const keeps = mutant === 'listing-kept-when-stopped' && job.row.state !== 'running';
        if (keeps && keptListings.has(key)) return reply.code(200).send(keptListings.get(key));
        const r = await fromStore(store.pages(crawlId, q.after ?? 0, limit));
        if (keeps) keptListings.set(key, r);
        return reply.code(200).send(mutant === 'limit-ignored' ? { ...r, next: null } : r);
      },
    },
  });
  return {
    app,
    stop: () => {
      for (const j of [...jobs.values(), ...unanswered]) j.stop();
    },
  };
}
