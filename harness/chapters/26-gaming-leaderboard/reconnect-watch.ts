// Part of RGL-F3: how often the service tries to reach its Redis while the link is cut. The spec: while the store
// cannot be reached the service keeps trying, at least once a second however long the outage lasts, so that it
// answers from the store again soon after the store is back. A client whose reconnection backs off without a cap
// (100 ms, 200 ms, ... doubling) stays away for about as long again as the outage has lasted, answering 503 all that
// while (blind bug redis-reconnect-backoff-unbounded); only a long outage would show that in the answers, but the
// gaps between its attempts grow past the bound within seconds.
//
// The service reaches Redis through a relay of the check's own (service -> relay -> fault proxy -> Redis) that notes
// when each connection was opened. While the fault proxy refuses, the relay still accepts each attempt (a proxy in
// front of a dead Redis does the same) and closes it at once, so every attempt is seen and none gets through.
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack, type SchedulingSlack } from '../../core/scheduling-slack.ts';

/** The spec's bound on the gap between two attempts to reach the store while it is away. */
export const RECONNECT_GAP_MS = 1_000;
/**
 * The most scheduling slack added to that bound (the harness's measured timer lateness): below what an uncapped
 * backoff shows within the cut (a 3.2 s gap from about 3.1 s on), so a wrong client is still caught.
 */
const SLACK_CAP_MS = 1_000;

export interface AttemptRelay {
  /** host:port the service is pointed at. */
  readonly listen: string;
  /** When each connection was accepted (Date.now()), in order. */
  readonly opened: readonly number[];
  close(): Promise<void>;
}

/** A plain TCP relay to `upstream` (host:port) that notes when each connection is opened. */
export async function startAttemptRelay(upstream: string): Promise<AttemptRelay> {
  const [host, port] = upstream.split(':');
  const open = new Set<Socket>();
  const opened: number[] = [];
  const server = createServer((client) => {
    opened.push(Date.now());
    const up = createConnection({ host: host!, port: Number(port) });
    for (const s of [client, up]) {
      open.add(s);
      s.setNoDelay(true);
    }
    // Either side closing closes the other: the fault proxy's cut or drop reaches the service as it would directly.
    const end = () => {
      client.destroy();
      up.destroy();
      open.delete(client);
      open.delete(up);
    };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    client.pipe(up);
    up.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  const listenPort = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    listen: `127.0.0.1:${listenPort}`,
    opened,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts measuring this run's scheduling slack: call it when the cut begins, so the lag during the cut is seen. */
export function reconnectSlack(ctx: CheckContext): SchedulingSlack {
  return checkSlack(ctx.evidence, SLACK_CAP_MS);
}

/**
 * The service's attempts to reach Redis between `from` and `to` (the link cut all that while): no gap between the cut,
 * the attempts and the end of the cut longer than RECONNECT_GAP_MS plus the scheduling slack measured in this run.
 */
export function expectAttemptsSpaced(
  ctx: CheckContext,
  slack: SchedulingSlack,
  relay: AttemptRelay,
  from: number,
  to: number,
): void {
  const attempts = relay.opened.filter((t) => t > from && t <= to);
  const marks = [from, ...attempts, to];
  let widest = { gap: 0, after: from };
  for (let i = 1; i < marks.length; i++) {
    const gap = marks[i]! - marks[i - 1]!;
    if (gap > widest.gap) widest = { gap, after: marks[i - 1]! };
  }
  const bound = slack.bound(RECONNECT_GAP_MS);
  ctx.evidence.reconnectAttemptsWhileCut = {
    attempts: attempts.length,
    cutMs: to - from,
    widestGapMs: widest.gap,
    boundMs: bound,
    gapsMs: attempts.map((t, i) => t - (i ? attempts[i - 1]! : from)),
  };
  const after = widest.after === from ? 'the cut' : `an attempt ${widest.after - from} ms into it`;
  ctx.expect(
    widest.gap <= bound,
    `with the link to Redis cut for ${to - from} ms the service tried to reach it ${attempts.length} times, and after ` +
      `${after} not again for ${widest.gap} ms: the spec bounds the gap between attempts while the store is away at ` +
      `${RECONNECT_GAP_MS} ms (${bound} ms with this run's scheduling slack), however long the outage lasts`,
  );
}
