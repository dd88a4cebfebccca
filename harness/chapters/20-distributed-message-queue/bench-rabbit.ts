// The micro-benchmark's second peer: RabbitMQ streams (Debian's rabbitmq-server 3.10, a queue declared with
// `x-queue-type: stream`, the book's append-only log with consumers reading from an offset) through amqplib, the
// client the issue names (AMQP 0.9.1; streams are usable over it without the stream-protocol plugin). A batch is N
// publishes on a confirm channel awaited together with waitForConfirms; the drain a consumer from offset `first`.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { timeLimit } from '../../core/time-scale.ts';
import { acceptsOnLoopback, stablePort } from '../../faults/free-port.ts';
import { findOnPath } from '../../tools/find-on-path.ts';
import { ownDir, spawnOwned, stopChild } from '../../tools/owned-processes.ts';
import type { QueueSide } from './bench-sides.ts';

/** Debian installs the server script here; /usr/sbin/rabbitmq-server only switches to the rabbitmq user first. */
const SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface RabbitServer {
  url: string;
  version: string;
  stop(): Promise<void>;
}

/** Why the peer cannot run here, or null. */
export async function rabbitServerMissing(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  return existsSync(SERVER_SCRIPT) && (await findOnPath('epmd', env))
    ? null
    : 'rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server; .ci/run installs it)';
}

/**
 * One RabbitMQ node in the foreground (our child, ended with the run) with its own epmd (also our child, on its own
 * port, so nothing outlives the run), on loopback, its data in a fresh temporary folder, no plugins.
 */
export async function startRabbitServer(): Promise<RabbitServer> {
  const missing = await rabbitServerMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-rabbit-'));
  const releaseDir = ownDir(dir);
  const [epmdPort, amqpPort, distPort] = [await stablePort(), await stablePort(), await stablePort()];
  const epmd = spawnOwned((await findOnPath('epmd'))!, ['-port', String(epmdPort)], { stdio: 'ignore' });
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const env = {
    ...process.env,
    HOME: dir, // the Erlang cookie is written there
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: `sdgrade${amqpPort}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
  };
  const child = spawnOwned(SERVER_SCRIPT, [], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (c: Buffer) => {
    log = (log + c.toString('utf8')).slice(-6000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    await stopChild(child, 'SIGTERM', 15_000);
    await stopChild(epmd, 'SIGTERM', 3_000);
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  };
  // Erlang starts slowly (about 20 s at load 20 on two cores).
  const deadline = Date.now() + timeLimit(90_000);
  while (!/Starting broker\.\.\. completed/.test(log) || !(await acceptsOnLoopback(amqpPort))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`rabbitmq-server did not start on 127.0.0.1:${amqpPort}:\n${log}`);
    }
    await sleep(200);
  }
  const version = /RabbitMQ (\d+\.\d+\.\d+)/.exec(log)?.[1] ?? 'unknown version';
  return { url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, version: `RabbitMQ ${version}`, stop };
}

/** Messages a stream consumer may hold unacknowledged (streams require a prefetch): as the other sides' ~1,000. */
const PREFETCH = 1000;
/** A drain that gets nothing for this long ends with what it has (the delivery guard then tells the difference). */
const DRAIN_IDLE_MS = 10_000;

/** RabbitMQ at `url`: a durable stream queue per log; publishes confirmed; drained from offset `first`. */
export async function rabbitStreamSide(url: string, name = 'RabbitMQ streams'): Promise<QueueSide> {
  const conn = await amqp.connect(url);
  const publish = await conn.createConfirmChannel();
  const logs = new Map<string, number>(); // confirmed messages per log, what a drain waits for
  return {
    name,
    async open(log) {
      await publish.assertQueue(log, { durable: true, arguments: { 'x-queue-type': 'stream' } });
      logs.set(log, 0);
    },
    // A publisher confirm means the stream stored the message; `acks` does not change it (no acks levels).
    async produce(log, values) {
      for (const v of values) publish.sendToQueue(log, Buffer.from(v), { persistent: true });
      await publish.waitForConfirms();
      logs.set(log, (logs.get(log) ?? 0) + values.length);
    },
    async drain(log) {
      const total = logs.get(log) ?? 0;
      const ch = await conn.createChannel();
      await ch.prefetch(PREFETCH);
      const out: string[] = [];
      await new Promise<void>((resolve, reject) => {
        let idle: NodeJS.Timeout | undefined;
        const arm = () => {
          clearTimeout(idle);
          idle = setTimeout(resolve, timeLimit(DRAIN_IDLE_MS));
        };
        arm();
        ch.consume(
          log,
          (m) => {
            if (!m) return;
            out.push(m.content.toString('utf8'));
            arm();
            // Acknowledged in runs (a stream consumer's credit), the last one at the end.
            if (out.length % (PREFETCH / 2) === 0 || out.length >= total) ch.ack(m, true);
            if (out.length >= total) {
              clearTimeout(idle);
              resolve();
            }
          },
          { noAck: false, arguments: { 'x-stream-offset': 'first' } },
        ).catch(reject);
        if (total === 0) resolve();
      });
      await ch.close();
      return out;
    },
    async subscribe(log, onMessage) {
      const ch = await conn.createChannel();
      await ch.prefetch(PREFETCH);
      let seen = 0;
      await ch.consume(
        log,
        (m) => {
          if (!m) return;
          onMessage(m.content.toString('utf8'));
          // Credit in runs, as the drain acknowledges.
          if (++seen % (PREFETCH / 2) === 0) ch.ack(m, true);
        },
        { noAck: false, arguments: { 'x-stream-offset': 'first' } },
      );
      return { stop: () => ch.close() };
    },
    async close() {
      for (const log of logs.keys()) await publish.deleteQueue(log).catch(() => undefined);
      await publish.close().catch(() => undefined);
      await conn.close();
    },
  };
}
