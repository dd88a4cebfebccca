// The two sides of the micro-benchmark, each through its own client: the reference broker over its HTTP API (one
// keep-alive connection, as NATS's client keeps one) and NATS JetStream through @nats-io/jetstream. A "log" is one
// ordered sequence on each: a topic of one partition on the reference, a stream of one subject on JetStream.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Pool } from 'undici';
import { loadManifest } from '../../core/manifest.ts';
import { ProcessTarget } from '../../core/process-target.ts';
import { acceptsOnLoopback, stablePort } from '../../faults/free-port.ts';
import { findOnPath } from '../../tools/find-on-path.ts';
import { ownDir, spawnOwned, stopChild } from '../../tools/owned-processes.ts';

/** What the reference's acks mean here: `1` written to the log, `all` also fsynced (one broker: it is every replica). */
export type BenchAcks = '1' | 'all';

export interface QueueSide {
  readonly name: string;
  /** Creates an empty log for one workload. */
  open(log: string): Promise<void>;
  /**
   * Sends `values` as one batch and resolves once every one is acknowledged as stored: the reference's batch is one
   * produce request of N messages, JetStream's is N publishes sent at once and awaited together.
   */
  produce(log: string, values: readonly string[], acks: BenchAcks): Promise<void>;
  /** Reads the whole log from its start, in order. */
  drain(log: string): Promise<string[]>;
  /**
   * Reads `log` from its start as messages arrive, as a consumer waiting at the tail does (the reference's long poll,
   * JetStream's ordered consumer, a RabbitMQ stream consumer): `onMessage` gets each value, in order, when its client
   * hands it over. Resolves once the consumer is reading; `stop` ends it.
   */
  subscribe(log: string, onMessage: (value: string) => void): Promise<Subscription>;
  close(): Promise<void>;
}

export interface Subscription {
  stop(): Promise<void>;
}

const REFERENCE_MANIFEST = new URL('../../../reference/20-distributed-message-queue/manifest.json', import.meta.url)
  .pathname;
/** The most a fetch may answer (the spec's maximum is 16 MiB): about 1,000 messages of 1 KiB per round trip. */
const FETCH_MAX_BYTES = 1024 * 1024;
/** A tail consumer's long poll (`maxWait`, ms): answered as soon as a message is appended, so it only bounds a stop. */
const TAIL_WAIT_MS = 1000;

/** The reference broker in its own process, started from its manifest as the harness starts it to grade it. */
export async function startReferenceSide(o: { mutant?: string } = {}): Promise<QueueSide> {
  const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-20-bench-'));
  const releaseDir = ownDir(runDir);
  const target = await ProcessTarget.start({
    manifest: loadManifest(REFERENCE_MANIFEST),
    runDir,
    embedded: true,
    ...(o.mutant ? { envOverrides: { MUTANT: o.mutant } } : {}),
  });
  const side = referenceSide(target.nodeUrl(), `reference${o.mutant ? ` [mutant ${o.mutant}]` : ''}`);
  return {
    ...side,
    async close() {
      await side.close();
      await target.close();
      rmSync(runDir, { recursive: true, force: true });
      releaseDir();
    },
  };
}

/** The reference's API at `baseUrl` (any implementation of the spec). */
export function referenceSide(baseUrl: string, name = 'reference'): QueueSide {
  const pool = new Pool(baseUrl, { connections: 1, pipelining: 1 });
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> => {
    const r = await pool.request({
      method,
      path,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await r.body.text();
    if (r.statusCode >= 300)
      throw new Error(`${name}: ${method} ${path} answered ${r.statusCode}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    name,
    async open(log) {
      await call('POST', '/api/v1/topics', { name: log, partitions: 1 });
    },
    async produce(log, values, acks) {
      const r = (await call('POST', `/api/v1/topics/${log}/messages`, {
        acks,
        messages: values.map((value) => ({ partition: 0, value })),
      })) as { records: unknown[] };
      if (r.records.length !== values.length)
        throw new Error(`${name}: ${values.length} messages produced, ${r.records.length} acknowledged`);
    },
    async drain(log) {
      const out: string[] = [];
      for (;;) {
        const r = (await call(
          'GET',
          `/api/v1/topics/${log}/partitions/0/messages?offset=${out.length}&maxBytes=${FETCH_MAX_BYTES}`,
        )) as { messages: { value: string }[]; endOffset: number };
        for (const m of r.messages) out.push(m.value);
        if (r.messages.length === 0 || out.length >= r.endOffset) return out;
      }
    },
    // Its own connection: a long poll waiting on the producer's one connection would hold the produces behind it.
    async subscribe(log, onMessage) {
      const tail = new Pool(baseUrl, { connections: 1, pipelining: 1 });
      const stopped = new AbortController();
      const loop = (async () => {
        for (let offset = 0; !stopped.signal.aborted; ) {
          const r = await tail.request({
            method: 'GET',
            path: `/api/v1/topics/${log}/partitions/0/messages?offset=${offset}&maxBytes=${FETCH_MAX_BYTES}&maxWait=${TAIL_WAIT_MS}`,
            signal: stopped.signal,
          });
          const text = await r.body.text();
          if (r.statusCode !== 200)
            throw new Error(`${name}: tail of ${log} answered ${r.statusCode}: ${text.slice(0, 300)}`);
          const { messages } = JSON.parse(text) as { messages: { value: string }[] };
          for (const m of messages) onMessage(m.value);
          offset += messages.length;
        }
      })().then(
        () => undefined,
        (e: Error) => (stopped.signal.aborted ? undefined : e),
      );
      return {
        async stop() {
          stopped.abort();
          const failed = await loop;
          await tail.close();
          if (failed) throw failed;
        },
      };
    },
    close: () => pool.close(),
  };
}

export interface NatsServer {
  url: string;
  version: string;
  stop(): Promise<void>;
}

/** Why the peer cannot run here, or null: nats-server (Debian's package) on PATH. */
export async function natsServerMissing(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  return (await findOnPath('nats-server', env))
    ? null
    : 'nats-server is not installed (Debian: apt-get install nats-server; .ci/run installs it)';
}

/**
 * nats-server with JetStream in the foreground (our child, ended with the run), on loopback, storing in a fresh
 * temporary folder. SDGRADE_NATS_PORT picks the port (else a free one).
 */
export async function startNatsServer(): Promise<NatsServer> {
  const bin = await findOnPath('nats-server');
  if (!bin) throw new Error((await natsServerMissing())!);
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-nats-'));
  const releaseDir = ownDir(dir);
  const port = Number(process.env['SDGRADE_NATS_PORT']) || (await stablePort());
  const child = spawnOwned(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (c: Buffer) => {
    log = (log + c.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    await stopChild(child, 'SIGTERM', 3_000);
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  };
  const deadline = Date.now() + 20_000;
  while (!log.includes('Server is ready') || !(await acceptsOnLoopback(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server did not start on 127.0.0.1:${port}:\n${log}`);
    }
    await sleep(100);
  }
  return { url: `127.0.0.1:${port}`, version, stop };
}

/** Messages a consumer pulls per request: as the reference's 1 MiB fetch, about 1,000 of 1 KiB. */
const PULL_BATCH = 1000;

/** JetStream at `url`: a file-stored stream of one replica per log; drained by an ordered consumer from the start. */
export async function jetStreamSide(url: string, name = 'NATS JetStream'): Promise<QueueSide> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const streams: string[] = [];
  return {
    name,
    async open(log) {
      await jsm.streams.add({ name: log, subjects: [`${log}.p0`], storage: StorageType.File, num_replicas: 1 });
      streams.push(log);
    },
    // A PubAck means the stream stored the message (JetStream has no acks levels); `acks` does not change it.
    async produce(log, values) {
      const subject = `${log}.p0`;
      await Promise.all(values.map((v) => js.publish(subject, v)));
    },
    async drain(log) {
      const total = (await jsm.streams.info(log)).state.messages;
      const consumer = await js.consumers.get(log);
      const out: string[] = [];
      while (out.length < total) {
        const before = out.length;
        const batch = await consumer.fetch({ max_messages: Math.min(PULL_BATCH, total - out.length), expires: 5000 });
        for await (const m of batch) out.push(m.string());
        if (out.length === before) break;
      }
      return out;
    },
    async subscribe(log, onMessage) {
      const messages = await (await js.consumers.get(log)).consume();
      const loop = (async () => {
        for await (const m of messages) onMessage(m.string());
      })();
      return {
        async stop() {
          await messages.close();
          await loop;
        },
      };
    },
    async close() {
      for (const s of streams) await jsm.streams.delete(s).catch(() => false);
      await nc.close();
    },
  };
}
