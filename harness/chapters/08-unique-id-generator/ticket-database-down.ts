// UID-F4: the ticket server's database (GENERATOR=ticket) crashes and comes back. The nodes are pointed at a
// PostgreSQL cluster the harness owns (harness/faults/private-postgres.ts), freshly initdb'd, so a node must set its
// ticket store up on an empty database (and its first batches there, whose IDs gain digits, must still increase);
// the cluster is killed as a crash kills it (`pg_ctl stop -m immediate`) and started again. Survive means: before
// the crash every node issues IDs; while it is down every answer is the spec's 503 `unavailable` with a Retry-After
// in whole seconds (or 200 with new IDs, for a node that holds a block of tickets), never a 500 or a hang (the
// crash lands on batches in flight from every node, as well as on requests made after it), and
// readiness says the database is down (a 503, or `down` among its dependencies); within DB_BACK_BOUND_MS of the
// restart every node issues again, each ID new and greater than every ID issued before the crash (the sequence
// never goes back). A node whose readiness lists dependencies lists one `up` while the database is up. Snowflake
// nodes have no such database: skipped, with that reason.
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import type { PrivatePostgres } from '../../faults/private-postgres.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import { expectIds, type Issued, nodeApis, sleep, strictlyIncreasing } from './api.ts';

/** The first node's batch on the fresh database: from a sequence that starts at 1, it crosses 10 and 100. */
const FRESH_BATCH = 150;
/** After PostgreSQL is back, every node issues IDs again within this (UID-F4's stated bound). */
export const DB_BACK_BOUND_MS = 10_000;
/** An answer slower than this while the database is down is a hang. */
const ANSWER_BOUND_MS = 10_000;
const RETRY_AFTER = /^[1-9][0-9]*$/;
/** Batches asked for while the database crashes under them: large enough that a query is often in flight. */
const IN_FLIGHT_BATCH = 2000;
/** A backstop on one client's answers around the crash (a node that never stops answering 200 cannot loop forever). */
const IN_FLIGHT_MAX_ANSWERS = 2000;

const code = (x: Exchange) => (x.body as { code?: string } | undefined)?.code;
const depStates = (x: Exchange): string[] | null => {
  const deps = (x.body as { dependencies?: unknown } | undefined)?.dependencies;
  return deps && typeof deps === 'object' ? Object.values(deps as Record<string, unknown>).map(String) : null;
};

export async function ticketDatabaseDown(ctx: CheckContext): Promise<void> {
  const [first] = nodeApis(ctx);
  const probe = await first!.api.one();
  expectIds(ctx, probe, first!.name);
  if (probe.node?.generator !== 'ticket')
    ctx.skip(
      `the nodes issue ${probe.node?.generator ?? 'unlabelled'} IDs: there is no ticket server's database to take away (graded with GENERATOR=ticket, variant ticket)`,
    );
  await withPrivatePostgres(ctx, (pg) => survivesCrash(ctx, pg));
}

async function readiness(ctx: CheckContext, url: string): Promise<Exchange> {
  return ctx.http.withBaseUrl(url).send({ method: 'GET', path: '/health/ready', timeoutMs: ANSWER_BOUND_MS });
}

async function survivesCrash(ctx: CheckContext, pg: PrivatePostgres): Promise<void> {
  const nodes = nodeApis(ctx);
  const before: bigint[] = [];
  // On the fresh database: every node issues, and a readiness that lists dependencies has one up. A fresh sequence
  // starts small, so the first node's batch gains a digit or two (…9, 10…, …99, 100…): its IDs must still strictly
  // increase (they are numbers; a batch ordered as strings puts "10" before "9"). Other checks run on a database
  // whose sequence has long passed its small powers of ten, and the next one is out of their reach.
  for (const [i, n] of nodes.entries()) {
    for (const r of [await n.api.one(), await n.api.batch(i === 0 ? FRESH_BATCH : 5)]) {
      const ids = expectIds(ctx, r, `${n.name} on a fresh database, before the crash`);
      const at = strictlyIncreasing(ids);
      ctx.expect(
        at < 0,
        `${n.name} on a fresh database answered a batch of ${ids.length} that is not increasing at index ${at}: ` +
          `${ids[at - 1]} then ${ids[at]}`,
        r.x,
      );
      if (i === 0 && ids.length > 1) ctx.evidence['freshBatch'] = `${ids[0]}..${ids[ids.length - 1]}`;
      before.push(...ids);
    }
    const ready = await readiness(ctx, ctx.target.nodeUrl(n.name));
    const deps = depStates(ready);
    ctx.expect(
      deps === null || deps.includes('up'),
      `${n.name}'s readiness lists dependencies ${JSON.stringify(deps)} with none up while its database is up`,
      ready,
    );
  }
  const seen = new Set(before);
  const statuses: Record<string, number> = {};
  const tally = (k: string) => {
    statuses[k] = (statuses[k] ?? 0) + 1;
  };

  // The crash lands on requests in flight: clients keep asking every node for batches while the database is killed,
  // so some queries die mid-way (the connection dropped, the server's "terminating connection" error) rather than
  // failing to connect. Each answer is 200 with new IDs or the spec's 503 unavailable, never a 500 (a node that maps
  // only "connection refused" to 503 answers a dropped query with 500: blind bug ticket-only-econnrefused-503).
  let crashed = false;
  const afterCrash: Record<string, number> = {};
  const inFlight = nodes.flatMap((n) =>
    [0, 1]
      .map(async () => {
        let answers = 0;
        while (!crashed || (afterCrash[n.name] ?? 0) < 3) {
          const r = await n.api.batch(IN_FLIGHT_BATCH);
          answers++;
          if (crashed) afterCrash[n.name] = (afterCrash[n.name] ?? 0) + 1;
          judgeWhileDown(ctx, r, seen, tally, `${n.name} with the database crashing under its requests`);
          if (answers > IN_FLIGHT_MAX_ANSWERS) break;
        }
        return answers;
      })
      // Settled at once: a loop that fails before the crash is awaited must not be an unhandled rejection.
      .map((p) =>
        p.then(
          (answers) => ({ answers }),
          (error: unknown) => ({ answers: 0, error }),
        ),
      ),
  );
  // Let every client have a request out before the crash.
  await sleep(200);
  await pg.crash();
  crashed = true;
  const settled = await Promise.all(inFlight);
  ctx.evidence['answersAroundCrash'] = settled.reduce((a, b) => a + b.answers, 0);
  const failed = settled.find((x) => 'error' in x);
  if (failed && 'error' in failed) throw failed.error;
  let highest = 0n;
  for (const id of seen) if (id > highest) highest = id;
  for (const n of nodes) {
    for (const r of [await n.api.one(), await n.api.batch(3)])
      judgeWhileDown(ctx, r, seen, tally, `${n.name} while the database was down`);
    const ready = await readiness(ctx, ctx.target.nodeUrl(n.name));
    tally(`readiness ${ready.status ?? ready.error}`);
    ctx.expect(
      ready.status === 503 || (depStates(ready) ?? []).includes('down'),
      `${n.name}'s readiness answered ${ready.status} with dependencies ${JSON.stringify(depStates(ready))} while its database was down: it does not say so`,
      ready,
    );
  }
  ctx.evidence['statusesWhileDown'] = statuses;
  ctx.expect(
    Object.keys(statuses).some((k) => k.startsWith('503')),
    'no request answered 503 while the ticket database was down: the fault did not bite',
  );

  await pg.start();
  const back = performance.now();
  const bound = checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS);
  for (const n of nodes) {
    let r = await n.api.one();
    while (r.x.status !== 200 && performance.now() - back < bound) {
      ctx.expect(
        r.x.status === 503 && code(r.x) === 'unavailable',
        `${n.name} answered ${r.x.status ?? r.x.error} after the database came back, not 200 or 503 unavailable`,
        r.x,
      );
      await sleep(200);
      r = await n.api.one();
    }
    ctx.expect(
      r.x.status === 200,
      `${n.name} did not issue an ID within ${DB_BACK_BOUND_MS} ms of the database coming back (last ${r.x.status})`,
      r.x,
    );
    for (const id of expectNew(ctx, r, seen, `${n.name} after the database came back`))
      ctx.expect(
        id > highest,
        `${n.name} issued ${id} after the restart, below ${highest} issued before the crash`,
        r.x,
      );
  }
  ctx.evidence['answersAgainAfterMs'] = Math.round(performance.now() - back);
}

/** An answer while the database is down (or going down): 200 with new IDs, or 503 unavailable with Retry-After. */
function judgeWhileDown(
  ctx: CheckContext,
  r: Issued,
  seen: Set<bigint>,
  tally: (k: string) => void,
  what: string,
): void {
  const x = r.x;
  tally(`${x.status ?? x.error}${code(x) ? ` ${code(x)}` : ''}`);
  ctx.expect(x.durationMs < ANSWER_BOUND_MS, `${what}: an answer took ${Math.round(x.durationMs)} ms (a hang)`, x);
  if (x.status === 200) {
    expectNew(ctx, r, seen, what);
    return;
  }
  ctx.expect(
    x.status === 503 && code(x) === 'unavailable',
    `${what}: answered ${x.status ?? x.error}${code(x) ? ` ${code(x)}` : ''}, not 503 unavailable (or 200)`,
    x,
  );
  ctx.expect(
    RETRY_AFTER.test(x.headers['retry-after'] ?? ''),
    `${what}: its 503 says Retry-After: ${x.headers['retry-after'] ?? '(none)'}, not whole seconds of at least 1`,
    x,
  );
}

/** The answer's IDs, each failing the check if it was issued before. */
function expectNew(ctx: CheckContext, r: Issued, seen: Set<bigint>, what: string): bigint[] {
  const ids = expectIds(ctx, r, what);
  for (const id of ids) {
    ctx.expect(!seen.has(id), `${what}: ${id} was issued before`, r.x);
    seen.add(id);
  }
  return ids;
}
