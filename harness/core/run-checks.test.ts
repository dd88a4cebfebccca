// runChecks on a fake chapter: shuffled order (seeded, replayable, results still in catalog order), a check that
// hangs is stopped (its requests stop at the abort) and the target is restarted (manifest) or the following
// checks are errors (URL), and checks read declared settings.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChapterModule, CheckFn } from '../chapters/chapter-module.ts';
import type { Catalog } from './catalog.ts';
import type { CheckContext } from './check-context.ts';
import { checkRunOrder, dailyShuffleSeed } from './check-order.ts';
import { scopedFetch, sleep } from './check-scope.ts';
import type { ExchangeValidator } from './exchange-validator.ts';
import { runChecks, stateUnknownReason } from './run-checks.ts';
import type { Target } from './target.ts';
import { timeLimit } from './time-scale.ts';

let server: Server;
let baseUrl = '';
let requests = 0;
/** Requests whose client went away before the answer: cancelled in flight. */
let cancelled = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    // /slow answers after 2 s: a request in flight when the check is stopped.
    const ms = req.url === '/slow' ? 2000 : 0;
    res.on('close', () => {
      if (!res.writableFinished) cancelled++;
    });
    setTimeout(() => {
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }, ms).unref();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const validator = { validate: () => [] } as unknown as ExchangeValidator;

function fakeTarget(processControl: boolean): Target & { restarts: number } {
  const t = {
    mode: processControl ? ('manifest' as const) : ('url' as const),
    baseUrl,
    implementation: 'fake',
    nodes: ['n1'],
    processControl,
    dependencies: {},
    restarts: 0,
    nodeUrl: () => baseUrl,
    kill: async () => {},
    pause: async () => {},
    resume: async () => {},
    start: async () => {},
    stop: async () => {},
    heal: async () => {},
    logs: () => [],
    close: async () => {},
  };
  return processControl
    ? Object.assign(t, {
        restartAll: async () => {
          t.restarts++;
        },
      })
    : t;
}

function fakeModule(checks: Record<string, CheckFn>): ChapterModule {
  const catalog = {
    chapter: '99-fake',
    title: 'fake',
    prefix: 'FK',
    checks: Object.keys(checks).map((id) => ({
      id,
      kind: id.includes('-C') ? 'conformance' : id.includes('-I') ? 'property' : 'fault',
      title: `check ${id}`,
    })),
    targets: [],
  } as unknown as Catalog;
  return { slug: '99-fake', catalog, specFile: '', referenceManifest: '', checks, mutants: [] };
}

const run = (module: ChapterModule, target: Target, extra: Partial<Parameters<typeof runChecks>[0]> = {}) =>
  runChecks({
    module,
    target,
    validator,
    network: null,
    runSeed: 1,
    numRuns: 5,
    onProgress: () => {},
    ...extra,
  });

describe('check order', () => {
  const ids = Array.from({ length: 12 }, (_, i) => `FK-C${i + 1}`);
  it('is the catalog order without a seed, and a permutation replayed exactly from a seed', () => {
    expect(checkRunOrder(ids)).toEqual(ids);
    const a = checkRunOrder(ids, 5);
    expect([...a].sort()).toEqual([...ids].sort());
    expect(a).not.toEqual(ids);
    expect(checkRunOrder(ids, 5)).toEqual(a);
    expect(checkRunOrder(ids, 6)).not.toEqual(a);
  });
  it('changes daily', () => {
    expect(dailyShuffleSeed(new Date('2026-12-03T10:00:00Z'))).toBe(dailyShuffleSeed(new Date('2026-12-03T23:59:00Z')));
    expect(dailyShuffleSeed(new Date('2026-12-03T10:00:00Z'))).not.toBe(
      dailyShuffleSeed(new Date('2026-12-04T01:00:00Z')),
    );
  });
  it('runs the checks shuffled, lists the results in catalog order and records the order they ran in', async () => {
    const ran: string[] = [];
    const checks = Object.fromEntries(
      ids.map((id) => [
        id,
        async () => {
          ran.push(id);
        },
      ]),
    );
    const r = await run(fakeModule(checks), fakeTarget(true), { shuffleSeed: 9 });
    expect(r.checks.map((c) => c.id)).toEqual(ids);
    expect(r.order).toEqual({ mode: 'shuffled', seed: 9, ran });
    expect(ran).toEqual(checkRunOrder(ids, 9));
    expect(ran).not.toEqual(ids);
    const inOrder = await run(fakeModule(checks), fakeTarget(true));
    expect(inOrder.order).toEqual({ mode: 'catalog', ran: ids });
  });
});

describe('a check that skips', () => {
  it('still fails on a response that broke the spec before the skip; a clean skip stays skipped', async () => {
    const strict = {
      validate: (x: { path: string }) => (x.path === '/bad' ? ['status 200 is not documented'] : []),
    } as unknown as ExchangeValidator;
    const r = await run(
      fakeModule({
        'FK-C1': async (ctx) => {
          await ctx.http.send({ method: 'GET', path: '/bad' });
          ctx.skip('the implementation has no second node');
        },
        'FK-C2': async (ctx) => {
          await ctx.http.send({ method: 'GET', path: '/fast' });
          ctx.skip('the implementation has no second node');
        },
      }),
      fakeTarget(true),
      { validator: strict },
    );
    const [bad, clean] = r.checks;
    expect(bad!.status).toBe('fail');
    expect(bad!.reason).toBe(
      'a response did not fit the spec: status 200 is not documented (the check then skipped: the implementation has no second node)',
    );
    expect(bad!.exchange).toBeDefined();
    expect(clean!.status).toBe('skipped');
  });
});

describe('a check that times out', () => {
  // Hangs: an endless loop of slow requests (one in flight at the stop), then of sleeps.
  const hang: CheckFn = async (ctx: CheckContext) => {
    for (;;) await ctx.http.send({ method: 'GET', path: '/slow' });
  };
  const sleepy: CheckFn = async (ctx: CheckContext) => {
    ctx.log('step 1: sleeping');
    for (;;) await ctx.sleep(60_000);
  };
  // The same without ctx: a chapter's own sleep helper and a raw fetch, stopped through the check's scope.
  const sleepyHelper: CheckFn = async () => {
    for (;;) await sleep(60_000);
  };
  const hangingFetch: CheckFn = async () => {
    for (;;) await scopedFetch(`${baseUrl}/slow`);
  };
  let propertyRuns = 0;
  const hangingProperty: CheckFn = async (ctx: CheckContext) => {
    await ctx.property(
      fc.integer(),
      async () => {
        propertyRuns++;
        await ctx.http.send({ method: 'GET', path: '/fast' });
        await ctx.sleep(50);
      },
      1_000_000,
    );
  };

  it('is stopped: no request goes out after the abort, and the next checks run on a restarted target', async () => {
    const target = fakeTarget(true);
    const after: string[] = [];
    const cancelledBefore = cancelled;
    const r = await run(
      fakeModule({
        'FK-F1': hang,
        'FK-F2': sleepy,
        'FK-F3': sleepyHelper,
        'FK-F4': hangingFetch,
        'FK-C1': async (ctx) => {
          after.push(String((await ctx.http.send({ method: 'GET', path: '/fast' })).status));
        },
      }),
      target,
      { checkTimeoutMs: 300, stopGraceMs: 3000 },
    );
    const before = requests;
    await new Promise((res) => setTimeout(res, 2500));
    expect(requests).toBe(before); // nothing of the stopped check is still sending
    expect(cancelled - cancelledBefore).toBe(2); // the requests in flight at the stop were cancelled, not awaited
    for (const id of ['FK-F1', 'FK-F2', 'FK-F3', 'FK-F4']) {
      const f = r.checks.find((c) => c.id === id)!;
      expect(f.status).toBe('error');
      // "was stopped" with no grace-period note: it ended within the grace period, not left running; then where it was.
      expect(f.reason).toMatch(
        id === 'FK-F2'
          ? /did not finish within 300 ms and was stopped; its last progress, 0\.\d s in: step 1: sleeping$/
          : /did not finish within 300 ms and was stopped; it logged no progress$/,
      );
      expect(f.changed).toEqual(['timed out: every node was restarted']);
      expect(f.durationMs).toBeLessThan(1500);
    }
    expect(target.restarts).toBe(4);
    expect(r.checks.find((c) => c.id === 'FK-C1')!.status).toBe('pass');
    expect(after).toEqual(['200']);
  });

  it('on a URL target, marks every following check as an error: the target state is unknown', async () => {
    const order = ['FK-F1', 'FK-C1', 'FK-C2'];
    const r = await run(
      fakeModule({ 'FK-F1': hang, 'FK-C1': async () => {}, 'FK-C2': async () => {} }),
      fakeTarget(false),
      { checkTimeoutMs: 300 },
    );
    expect(r.order.ran).toEqual(order);
    expect(r.checks.map((c) => c.status)).toEqual(['error', 'error', 'error']);
    for (const c of r.checks.slice(1)) {
      expect(c.reason).toBe(`${stateUnknownReason} (FK-F1 timed out on a target the harness cannot restart)`);
      expect(c.durationMs).toBe(0);
    }
  });

  it('stops a property between its runs and in the middle of one', async () => {
    const started = Date.now();
    const r = await run(fakeModule({ 'FK-I1': hangingProperty }), fakeTarget(true), { checkTimeoutMs: 400 });
    // Counted where the runs start, not where requests arrive: on a busy machine a request sent just before the stop
    // reaches the server after it (that is not a request sent after the abort).
    const before = propertyRuns;
    await new Promise((res) => setTimeout(res, 300));
    expect(propertyRuns).toBe(before);
    expect(r.checks[0]!.status).toBe('error');
    expect(r.checks[0]!.reason).toMatch(/was stopped; it logged no progress$/);
    // A hang bound: stopped soon after its 400 ms limit, not after the million runs it asked for.
    expect(Date.now() - started).toBeLessThan(timeLimit(3000));
  });
});

describe('a property that fails', () => {
  it('is reported failed with the smallest case found when shrinking outlasts its budget, not as "did not finish"', async () => {
    // Each case takes 100 ms and every case fails: shrinking 50 large integers towards 0 takes well over a thousand
    // steps, far more than the quarter of the 4 s check that shrinking may use.
    const slowFailing: CheckFn = async (ctx: CheckContext) => {
      await ctx.property(
        fc.array(fc.integer({ min: 1_000_000, max: 1_000_000_000 }), { minLength: 50, maxLength: 50 }),
        async (v) => {
          await ctx.sleep(100);
          ctx.expect(false, `${v.length} values is too many`);
        },
        5,
      );
    };
    const r = await run(fakeModule({ 'FK-I1': slowFailing }), fakeTarget(true), { checkTimeoutMs: 4000 });
    const c = r.checks[0]!;
    expect(c.status, c.reason).toBe('fail');
    expect(c.reason).toMatch(/shrinking stopped after 1 s\): 50 values is too many/);
  });

  it("stops at its first failing case when shrinking is turned off (the grade tests' mutants)", async () => {
    let cases = 0;
    const failing: CheckFn = async (ctx: CheckContext) => {
      await ctx.property(
        fc.array(fc.integer({ min: 1_000_000, max: 1_000_000_000 }), { minLength: 50, maxLength: 50 }),
        async (v) => {
          cases++;
          ctx.expect(false, `${v.length} values is too many`);
        },
        5,
      );
    };
    const r = await run(fakeModule({ 'FK-I1': failing }), fakeTarget(true), { shrink: false });
    const c = r.checks[0]!;
    expect(c.status, c.reason).toBe('fail');
    expect(c.reason).toMatch(/after 1 runs and no shrinking \(turned off\): 50 values is too many/);
    expect(cases).toBe(1);
  });
});

describe('settings and changes', () => {
  it('reads the declared value, else the default, and records both; refuses a value outside the allowed', async () => {
    const read: string[] = [];
    const m = fakeModule({
      'FK-C1': async (ctx) => {
        read.push(ctx.setting('failMode', 'open', ['open', 'closed']));
        ctx.changed('left a rule installed');
      },
    });
    const dflt = await run(m, fakeTarget(true));
    const declared = await run(m, fakeTarget(true), { settings: { failMode: 'closed' } });
    const bad = await run(m, fakeTarget(true), { settings: { failMode: 'ajar' } });
    expect(read).toEqual(['open', 'closed']);
    expect(dflt.checks[0]).toMatchObject({
      status: 'pass',
      settings: { failMode: 'open' },
      changed: ['left a rule installed'],
    });
    expect(declared.checks[0]).toMatchObject({ status: 'pass', settings: { failMode: 'closed' } });
    expect(bad.checks[0]!.status).toBe('error');
    expect(bad.checks[0]!.reason).toMatch(/failMode is declared as "ajar"; it must be one of open, closed/);
  });
});
