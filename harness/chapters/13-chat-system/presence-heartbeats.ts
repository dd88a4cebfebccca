// CHAT-I6: presence - online after connect and for as long as heartbeats come (past the timeout); a disconnect
// shorter than the timeout does not flap; offline only after the heartbeat timeout.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { chatCheck, sleep } from './api.ts';
import { LIVE_MS, runs } from './converge.ts';

export const presenceHeartbeats = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const watcher = await w.user();
  await watcher.device.connect();
  const timeoutMs = Number(watcher.device.authenticated!.presenceTimeoutMs);
  const intervalMs = Number(watcher.device.authenticated!.heartbeatIntervalMs);
  ctx.evidence.presenceTimeoutMs = timeoutMs;
  // When the watcher came online: heartbeats keep it online and leave `since` (the last change) where it is.
  const first = await w.x(
    w.http.GET('/api/v1/users/{userId}/presence', {
      params: { path: { userId: watcher.userId } },
      ...w.auth(watcher.token),
    }),
  );
  ctx.expectStatus(first, 200);
  const firstBody = first.body as { status: string; since: string };
  if (timeoutMs > 10_000)
    ctx.skip(
      `the presence timeout is ${timeoutMs} ms; this check waits it out several times, so it needs one of 10 s or less (make it configurable)`,
    );
  // The watcher's heartbeats, with the longest gap between two of them (a busy scheduler stretches the interval).
  let lastBeatAt = Date.now();
  let longestGapMs = 0;
  let run = 0;
  const beat = setInterval(() => {
    watcher.device.heartbeat();
    longestGapMs = Math.max(longestGapMs, Date.now() - lastBeatAt);
    lastBeatAt = Date.now();
  }, intervalMs);
  try {
    // Heartbeats keep a connected user online: past the timeout, with one every interval, the watcher is online.
    await sleep(1.5 * timeoutMs);
    const own = await w.x(
      w.http.GET('/api/v1/users/{userId}/presence', {
        params: { path: { userId: watcher.userId } },
        ...w.auth(watcher.token),
      }),
    );
    ctx.expectStatus(own, 200);
    // A run whose own heartbeats came too late asserts nothing (counted), as below.
    const ownBody = own.body as { status: string; since: string };
    if (longestGapMs < timeoutMs * 0.9) {
      ctx.expect(
        ownBody.status === 'online',
        `${watcher.username}, connected and sending a heartbeat every ${intervalMs} ms, is ${ownBody.status} ${1.5 * timeoutMs} ms after connecting (presence timeout ${timeoutMs} ms): heartbeats do not keep a user online`,
      );
      if (firstBody.status === 'online')
        ctx.expect(
          ownBody.since === firstBody.since,
          `${watcher.username}'s presence since moved from ${firstBody.since} to ${ownBody.since} while online all along: since is when the status last changed, not the last heartbeat`,
        );
    } else ctx.evidence.runsStretchedPastTimeout = Number(ctx.evidence.runsStretchedPastTimeout ?? 0) + 1;
    await ctx.property(
      fc.double({ min: 0.1, max: 0.35, noNaN: true }),
      async (gapShare) => {
        const a = await w.user();
        // Befriending is both ways: in turn the friend asks and the watcher asks (the watcher gets a's changes).
        const watcherAsks = run++ % 2 === 1;
        if (watcherAsks) await w.befriend(watcher, a);
        else await w.befriend(a, watcher);
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
          `friend ${watcher.username} got no presence online for ${a.username} within ${LIVE_MS} ms of connecting (${watcherAsks ? `${watcher.username}` : `${a.username}`} asked for the friendship)`,
        );
        ctx.expect((await statusOf()) === 'online', `${a.username} is not online after connecting`);
        // Heartbeats, then a disconnect shorter than the timeout, then back: no flap.
        for (let i = 0; i < 3; i++) {
          a.device.heartbeat();
          await sleep(intervalMs);
        }
        a.device.heartbeat();
        const beatAt = Date.now();
        a.device.drop();
        await sleep(gapShare * timeoutMs);
        // The gap is measured, not assumed: a busy scheduler stretches the sleep, the reconnect and the round trips,
        // and past 90% of the timeout "offline" may be right. Such a run asserts nothing and is counted; a server
        // that goes offline on the disconnect itself shows it within the planned gap and is caught.
        const status = await statusOf();
        const gapMs = Date.now() - beatAt;
        if (gapMs < timeoutMs * 0.9)
          ctx.expect(
            status === 'online',
            `${a.username} is offline ${gapMs} ms after a disconnect, before the ${timeoutMs} ms timeout`,
          );
        await a.device.connect();
        a.device.heartbeat();
        const backMs = Date.now() - beatAt;
        await sleep(100);
        const flaps = events().filter((e) => e.status === 'offline');
        if (backMs < timeoutMs * 0.9)
          ctx.expect(
            !flaps.length,
            `a ${backMs} ms disconnect (timeout ${timeoutMs} ms) made ${a.username} flap offline for friends`,
          );
        else ctx.evidence.runsStretchedPastTimeout = Number(ctx.evidence.runsStretchedPastTimeout ?? 0) + 1;
        // Gone for good: offline, but not before the timeout since the last heartbeat.
        const lastBeat = Date.now();
        a.device.heartbeat();
        a.device.drop();
        // Offline within the timeout plus 2.5 s, plus the scheduling delay measured (at most 2.5 s more).
        const slack = checkSlack(ctx.evidence, 2500);
        const untilMs = () => timeoutMs + slack.bound(2500);
        while (!events().some((e) => e.status === 'offline') && Date.now() < lastBeat + untilMs()) await sleep(25);
        const off = events().find((e) => e.status === 'offline');
        ctx.expect(off, `${a.username} was never shown offline, ${untilMs()} ms after the last heartbeat`);
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
