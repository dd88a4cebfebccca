// CHAT-I1..I8: the invariants of specs/13-chat-system/README.md as fast-check properties over HTTP and WebSocket,
// with devices spread over every chat server discovery lists (a user on one server talking to a user on another).
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, type Device, MAX_MEMBERS, MAX_TEXT, newClientMessageId, sleep, spread, type World } from './api.ts';
import { startPushProvider } from './push-provider.ts';

/** Every device has exactly the channel's history (same IDs naming the same messages) and saw nothing odd. */
async function expectConverged(w: World, channelId: string, devices: Device[], what: string): Promise<void> {
  const ctx: CheckContext = w.ctx;
  const history = await w.history(devices[0]!.user, channelId);
  const want = history.map((m) => `${m.messageId}:${m.clientMessageId}`).join(' ');
  for (const d of devices) {
    ctx.expect(!d.anomalies.length, `${what}: ${d.anomalies[0]}`);
    const got = [...(d.seen.get(channelId) ?? new Map()).entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, m]) => `${id}:${m.clientMessageId}`)
      .join(' ');
    if (got !== want)
      ctx.fail(`${what}: ${d.label} has [${got}] but the channel's history is [${want}]`, {
        counterexample: { device: d.label, seen: got, history: want },
      });
  }
}

/** How soon a connected device must have a message (the spec's live-delivery bound). */
export const LIVE_MS = 3000;

const runs = (ctx: CheckContext, max: number) => Math.max(1, Math.min(ctx.numRuns, max));

export const oneOrder = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  ctx.evidence.servers = servers.map((s) => s.name);
  // Batches of sends: within a batch at once, from several devices; each batch after the previous was acknowledged.
  const batches = fc.array(fc.array(fc.nat(5), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 5 });
  await ctx.property(
    batches,
    async (plan) => {
      const users = [
        await w.user(['phone', 'laptop']),
        await w.user(['phone', 'laptop']),
        await w.user(['phone', 'laptop']),
      ];
      const devices = users.flatMap((u) => u.devices);
      const g = await w.group(users[0]!, users.slice(1), 'i1');
      await spread(devices, servers);
      const idsOfBatch: number[][] = [];
      for (const batch of plan) {
        idsOfBatch.push(
          await Promise.all(batch.map((i, k) => devices[i]!.sendOk(g.channelId, `b${idsOfBatch.length}-${k}`))),
        );
      }
      for (let j = 1; j < idsOfBatch.length; j++) {
        const before = Math.max(...idsOfBatch.slice(0, j).flat());
        const first = Math.min(...idsOfBatch[j]!);
        if (first <= before)
          ctx.fail(
            `message ${first} was sent after message ${before} was acknowledged, yet sorts before it: ` +
              'members ordering by message ID see them in an order that is not the order they were sent in',
            { counterexample: { plan, idsOfBatch } },
          );
      }
      const all = idsOfBatch.flat();
      ctx.expect(
        new Set(all).size === all.length,
        `two sends were acknowledged with one message ID: ${JSON.stringify(idsOfBatch)}`,
      );
      for (const d of devices) {
        const missing = await d.waitSeen(g.channelId, all, LIVE_MS);
        ctx.expect(!missing.length, `${d.label} did not get messages ${missing.join(', ')} within ${LIVE_MS} ms`);
      }
      await expectConverged(w, g.channelId, devices, 'one order');
      for (const d of devices) d.drop();
    },
    runs(ctx, 6),
  );
});

export const noLoss = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  ctx.evidence.servers = servers.map((s) => s.name);
  const round = fc.record({ sender: fc.nat(3), away: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) });
  await ctx.property(
    fc.array(round, { minLength: 2, maxLength: 6 }),
    async (plan) => {
      const users = [await w.user(), await w.user(), await w.user(), await w.user()];
      const devices = users.map((u) => u.device);
      const g = await w.group(users[0]!, users.slice(1), 'i2');
      await spread(devices, servers);
      let next = 0;
      const sent: number[] = [];
      for (const r of plan) {
        for (const [i, d] of devices.entries()) {
          if (r.away[i] && d.client) d.drop();
          else if (!r.away[i] && !d.client) {
            // Back, on the other chat server this time, and catch up.
            await d.connectTo(servers[(i + ++next) % servers.length]!);
            await d.sync();
          }
        }
        const online = devices.filter((d) => d.client);
        const sender = online[r.sender % Math.max(1, online.length)];
        if (!sender) continue;
        const id = await sender.sendOk(g.channelId, `m${sent.length}`);
        sent.push(id);
        for (const d of online) {
          if (d === sender) continue;
          const missing = await d.waitSeen(g.channelId, [id], LIVE_MS);
          if (missing.length)
            ctx.fail(
              `${d.label} was connected but did not get message ${id} from ${sender.label} live within ${LIVE_MS} ms`,
              {
                counterexample: plan,
              },
            );
        }
      }
      for (const d of devices) {
        if (!d.client) {
          await d.connectTo(servers[0]!);
          await d.sync();
        }
        const missing = await d.waitSeen(g.channelId, sent);
        ctx.expect(
          !missing.length,
          `${d.label} never got acknowledged messages ${missing.join(', ')} (live or by sync)`,
        );
      }
      await expectConverged(w, g.channelId, devices, 'no loss');
      for (const d of devices) d.drop();
    },
    runs(ctx, 6),
  );
});

export const noDuplicates = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  await ctx.property(
    fc.record({ resends: fc.integer({ min: 1, max: 3 }), together: fc.boolean() }),
    async (p) => {
      const [a, b] = [await w.user(), await w.user()];
      const g = await w.group(a, [b], 'i3');
      await spread([a.device, b.device], servers);
      const cid = newClientMessageId();
      const first = await a.device.sendOk(g.channelId, 'once', cid);
      const again = p.together
        ? await Promise.all(Array.from({ length: p.resends }, () => a.device.send(g.channelId, 'once', cid)))
        : await (async () => {
            const out = [];
            for (let i = 0; i < p.resends; i++) out.push(await a.device.send(g.channelId, 'once', cid));
            return out;
          })();
      for (const r of again)
        ctx.expect(
          r.answer?.type === 'sent' && r.answer.messageId === first && r.answer.duplicate === true,
          `a resend of ${cid} answered ${JSON.stringify(r.answer)}, not sent with message ${first} and duplicate true`,
        );
      await sleep(150);
      const copies = (await w.history(a, g.channelId)).filter((m) => m.clientMessageId === cid);
      ctx.expect(copies.length === 1, `the history holds ${copies.length} messages with client ID ${cid}`);
      const atB = [...(b.device.seen.get(g.channelId) ?? new Map()).values()].filter((m) => m.clientMessageId === cid);
      ctx.expect(atB.length === 1, `${b.device.label} got ${atB.length} messages with client ID ${cid}`);
      a.device.drop();
      b.device.drop();
    },
    runs(ctx, 8),
  );
});

export const devicesConverge = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  const step = fc.record({ device: fc.nat(3), action: fc.constantFrom('send', 'send', 'away', 'back') });
  await ctx.property(
    fc.array(step, { minLength: 3, maxLength: 10 }),
    async (plan) => {
      const u = await w.user(['phone', 'laptop', 'tablet']);
      const v = await w.user();
      const devices = [...u.devices, v.device];
      const g = await w.group(u, [v], 'i4');
      await spread(devices, servers);
      let n = 0;
      for (const s of plan) {
        const d = devices[s.device]!;
        if (s.action === 'away') d.drop();
        else if (s.action === 'back' && !d.client) {
          await d.connectTo(servers[++n % servers.length]!);
          await d.sync();
        } else if (s.action === 'send' && d.client) await d.sendOk(g.channelId, `s${n++}`);
      }
      for (const d of devices) {
        if (d.client) d.drop();
        await d.connectTo(servers[++n % servers.length]!);
        await d.sync();
      }
      await expectConverged(w, g.channelId, devices, `after every device reconnected and synced`);
      for (const d of devices) d.drop();
    },
    runs(ctx, 8),
  );
});

export const syncFromCursor = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const probe = await w.user();
  const servers = await w.servers(probe.device);
  const arb = fc.record({ count: fc.integer({ min: 2, max: 8 }), cursorAt: fc.nat(8), ackAt: fc.nat(8) });
  await ctx.property(
    arb,
    async (p) => {
      const [a, b] = [await w.user(), await w.user(['phone', 'laptop'])];
      const g = await w.group(a, [b], 'i5');
      await a.device.connectTo(servers[0]!);
      const ids: number[] = [];
      for (let i = 0; i < p.count; i++) ids.push(await a.device.sendOk(g.channelId, `n${i}`));
      const check = (got: unknown[], after: number, how: string) => {
        const want = ids.filter((id) => id > after);
        const gotIds = got.map((f) => (f as { messageId: number }).messageId);
        if (gotIds.join() !== want.join())
          ctx.fail(
            `sync ${how} (cur_max_message_id ${after}) sent messages [${gotIds.join(', ')}], not [${want.join(', ')}]`,
            {
              counterexample: p,
            },
          );
      };
      // An explicit cursor, on a fresh connection (on the other server).
      const cursor = p.cursorAt === 0 ? 0 : ids[(p.cursorAt - 1) % ids.length]!;
      await b.device.connectTo(servers[1 % servers.length]!);
      check(
        (await b.device.sync([{ channelId: g.channelId, curMaxMessageId: cursor }])).messages,
        cursor,
        'with a cursor',
      );
      // No cursor: the device's last ack is where it starts.
      const laptop = b.devices[1]!;
      await laptop.connectTo(servers[0]!);
      const acked = p.ackAt === 0 ? 0 : ids[(p.ackAt - 1) % ids.length]!;
      if (acked) laptop.client!.send({ type: 'ack', channelId: g.channelId, messageId: acked });
      await sleep(100);
      laptop.drop();
      await laptop.connectTo(servers[1 % servers.length]!);
      check((await laptop.sync([])).messages, acked, `without a cursor after ack ${acked}`);
      for (const d of [a.device, ...b.devices]) d.drop();
    },
    runs(ctx, 8),
  );
});

export const presenceHeartbeats = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const watcher = await w.user();
  await watcher.device.connect();
  const timeoutMs = Number(watcher.device.authenticated!.presenceTimeoutMs);
  const intervalMs = Number(watcher.device.authenticated!.heartbeatIntervalMs);
  ctx.evidence.presenceTimeoutMs = timeoutMs;
  if (timeoutMs > 10_000)
    ctx.skip(
      `the presence timeout is ${timeoutMs} ms; this check waits it out several times, so it needs one of 10 s or less (make it configurable)`,
    );
  const beat = setInterval(() => watcher.device.heartbeat(), intervalMs);
  try {
    await ctx.property(
      fc.double({ min: 0.1, max: 0.35, noNaN: true }),
      async (gapShare) => {
        const a = await w.user();
        await w.befriend(a, watcher);
        const statusOf = async () => {
          const r = await w.x(
            w.http.GET('/api/v1/users/{userId}/presence', {
              params: { path: { userId: a.userId } },
              ...w.auth(watcher.token),
            }),
          );
          ctx.expectStatus(r, 200);
          return (r.body as { status: string }).status;
        };
        const seenFrom = watcher.device.presence.length;
        const events = () => watcher.device.presence.slice(seenFrom).filter((p) => p.userId === a.userId);
        await a.device.connect();
        const deadline = Date.now() + LIVE_MS;
        while (!events().some((e) => e.status === 'online') && Date.now() < deadline) await sleep(20);
        ctx.expect(
          events().some((e) => e.status === 'online'),
          `friend ${watcher.username} got no presence online for ${a.username} within ${LIVE_MS} ms of connecting`,
        );
        ctx.expect((await statusOf()) === 'online', `${a.username} is not online after connecting`);
        // Heartbeats, then a disconnect shorter than the timeout, then back: no flap.
        for (let i = 0; i < 3; i++) {
          a.device.heartbeat();
          await sleep(intervalMs);
        }
        a.device.heartbeat();
        a.device.drop();
        await sleep(gapShare * timeoutMs);
        ctx.expect(
          (await statusOf()) === 'online',
          `${a.username} is offline ${Math.round(gapShare * timeoutMs)} ms after a disconnect, before the ${timeoutMs} ms timeout`,
        );
        await a.device.connect();
        a.device.heartbeat();
        await sleep(100);
        const flaps = events().filter((e) => e.status === 'offline');
        ctx.expect(
          !flaps.length,
          `a ${Math.round(gapShare * timeoutMs)} ms disconnect (timeout ${timeoutMs} ms) made ${a.username} flap offline for friends`,
        );
        // Gone for good: offline, but not before the timeout since the last heartbeat.
        const lastBeat = Date.now();
        a.device.heartbeat();
        a.device.drop();
        const until = lastBeat + timeoutMs + 2500;
        while (!events().some((e) => e.status === 'offline') && Date.now() < until) await sleep(25);
        const off = events().find((e) => e.status === 'offline');
        ctx.expect(off, `${a.username} was never shown offline, ${timeoutMs + 2500} ms after the last heartbeat`);
        ctx.expect(
          off.at - lastBeat >= timeoutMs * 0.9,
          `${a.username} went offline ${off.at - lastBeat} ms after the last heartbeat, before the ${timeoutMs} ms timeout`,
        );
        ctx.expect((await statusOf()) === 'offline', `getPresence still says online after the offline change`);
      },
      runs(ctx, 2),
    );
  } finally {
    clearInterval(beat);
  }
});

export const pushWhenOffline = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const provider = await startPushProvider(ctx.seed);
  try {
    await ctx.property(
      fc.integer({ min: 1, max: 4 }),
      async (count) => {
        const [a, off, on] = [await w.user(), await w.user(), await w.user()];
        const g = await w.group(a, [off, on], 'i7');
        for (const u of [off, on]) {
          const r = await w.x(
            w.http.PUT('/api/v1/me/devices/{deviceId}/push', {
              params: { path: { deviceId: 'phone' } },
              body: { endpoint: `${provider.url}/push/${u.userId}` },
              ...w.auth(u.token),
            }),
          );
          ctx.expectStatus(r, 204);
        }
        await a.device.connect();
        await on.device.connect();
        const ids: number[] = [];
        for (let i = 0; i < count; i++) ids.push(await a.device.sendOk(g.channelId, `push ${i}`));
        await on.device.waitSeen(g.channelId, ids);
        const deadline = Date.now() + 3000;
        while (provider.pushesFor(off.userId).length < count && Date.now() < deadline) await sleep(25);
        await sleep(300); // room for a wrong extra push to arrive
        const got = provider.pushesFor(off.userId);
        ctx.expect(!provider.violations.length, `a push did not fit PushNotification: ${provider.violations[0]}`);
        const gotIds = got
          .filter((p) => p.channelId === g.channelId)
          .map((p) => p.messageId)
          .sort((x, y) => x - y);
        ctx.expect(
          gotIds.join() === ids.join(),
          `the offline member got pushes for [${gotIds.join(', ')}], not one for each of [${ids.join(', ')}]`,
        );
        const wrong = provider.pushesFor(on.userId);
        ctx.expect(!wrong.length, `the connected member got ${wrong.length} pushes`);
        ctx.expect(!provider.pushesFor(a.userId).length, 'the sender got a push for its own message');
        a.device.drop();
        on.device.drop();
      },
      runs(ctx, 3),
    );
    ctx.evidence.pushes = provider.count();
  } finally {
    await provider.stop();
  }
});

export const limits = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const owner = await w.user();
  const others = [];
  for (let i = 0; i < MAX_MEMBERS; i++) others.push(await w.user([]));
  const create = (members: string[]) =>
    w.x(w.http.POST('/api/v1/channels', { body: { type: 'group', name: 'full', members }, ...w.auth(owner.token) }));
  const over = await create(others.map((u) => u.userId));
  ctx.expectStatus(over, 409, 'group_full');
  const full = await create(others.slice(0, MAX_MEMBERS - 1).map((u) => u.userId));
  ctx.expectStatus(full, 201);
  const channelId = (full.body as { channelId: string; members: string[] }).channelId;
  ctx.expect(
    (full.body as { members: string[] }).members.length === MAX_MEMBERS,
    'the full group does not list 100 members',
    full,
  );
  const extra = await w.x(
    w.http.POST('/api/v1/channels/{channelId}/members', {
      params: { path: { channelId } },
      body: { userId: others[MAX_MEMBERS - 1]!.userId },
      ...w.auth(owner.token),
    }),
  );
  ctx.expectStatus(extra, 409, 'group_full');
  await owner.device.connect();
  await ctx.property(
    fc.integer({ min: 1, max: 5000 }),
    async (overBy) => {
      const long = await owner.device.send(channelId, 'x'.repeat(MAX_TEXT + overBy));
      ctx.expect(
        long.answer?.type === 'error' &&
          long.answer.code === 'message_too_long' &&
          long.answer.ref === long.clientMessageId,
        `a text of ${MAX_TEXT + overBy} characters answered ${JSON.stringify(long.answer).slice(0, 300)}, not error message_too_long`,
      );
    },
    runs(ctx, 4),
  );
  const exact = await owner.device.send(channelId, 'y'.repeat(MAX_TEXT));
  ctx.expect(
    exact.answer?.type === 'sent',
    `a text of exactly ${MAX_TEXT} characters answered ${JSON.stringify(exact.answer).slice(0, 300)}`,
  );
});
