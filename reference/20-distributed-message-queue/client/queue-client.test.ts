// The queue interface's contract, run on both implementations: the HTTP client against the reference broker (its own
// process, started from its manifest) and the JetStream client against nats-server (skipped where nats-server is not
// installed; CI installs it). Each run uses fresh topics and groups, and compares what the handlers saw with what was
// produced: every message, each key's in produced order, retried after a handler failure, positions kept across a
// resubscribe, groups independent.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NatsServer,
  natsServerMissing,
  startNatsServer,
} from '../../../harness/chapters/20-distributed-message-queue/bench-sides.ts';
import { timeLimit } from '../../../harness/chapters/grade-test-kit.ts';
import { loadManifest } from '../../../harness/core/manifest.ts';
import { ProcessTarget } from '../../../harness/core/process-target.ts';
import { HttpQueueClient } from './http-queue-client.ts';
import { NatsQueueClient } from './nats-queue-client.ts';
import type { QueueClient, QueueMessage } from './queue-client.ts';

/** A handler that keeps what it is handed, in order. */
const into =
  (list: QueueMessage[]) =>
  (m: QueueMessage): void => {
    list.push(m);
  };

const natsMissing = await natsServerMissing();
const MANIFEST = new URL('../manifest.json', import.meta.url).pathname;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];

/** Resolves when `done()` holds, polling; fails the test with `what` after the (scaled) limit. */
async function until(done: () => boolean, what: () => string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + timeLimit(ms);
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeLimit(ms)} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const produced = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ key: KEYS[i % KEYS.length]!, value: `${tag}:${KEYS[i % KEYS.length]}:${i}` }));

/** The spec's key -> partition, computed here (not by the library under test): CRC-32 of the UTF-8 key, unsigned. */
const specPartition = (key: string, partitions: number) => crc32(Buffer.from(key, 'utf8')) % partitions;

/** Each key's values in the order the handler got them (repeats included). */
function perKey(seen: readonly QueueMessage[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of seen) out.set(m.key!, [...(out.get(m.key!) ?? []), m.value]);
  return out;
}

/**
 * `open` starts the queue and a client of it; `another` opens a second client of the same queue (its own caches, as
 * another process would have).
 */
function contract(
  name: string,
  open: () => Promise<QueueClient>,
  another: () => Promise<QueueClient>,
  close: () => Promise<void>,
) {
  describe(`queue client contract: ${name}`, () => {
    let q: QueueClient;
    const topic = `orders_${Date.now().toString(36)}`;
    beforeAll(async () => {
      q = await open();
      await q.createTopic(topic, { partitions: 3 });
      await q.createTopic(topic, { partitions: 3 }); // a second create keeps the topic
      await q.produce(topic, produced(60, 'a'));
    }, timeLimit(60_000));
    afterAll(async () => {
      await q?.close();
      await close();
    }, timeLimit(30_000));

    it(
      "hands every message to a group once a clean run is over, each key in the order produced, on its key's partition",
      async () => {
        const seen: QueueMessage[] = [];
        const s = await q.subscribe(topic, 'g1', into(seen), { maxWaitMs: 200, sessionTimeoutMs: 1000 });
        await until(
          () => seen.length >= 60,
          () => `${seen.length} of 60 handed over`,
        );
        await s.close();
        const want = produced(60, 'a');
        expect(seen.map((m) => m.value).sort()).toEqual(want.map((m) => m.value).sort());
        for (const [key, values] of perKey(seen))
          expect(values).toEqual(want.filter((m) => m.key === key).map((m) => m.value));
        for (const m of seen) {
          expect(m.partition, m.key!).toBe(specPartition(m.key!, 3));
          expect(m.deliveries).toBe(1);
          expect(m.topic).toBe(topic);
        }
        // The group's position is kept: after a resubscribe only what was produced since is handed over.
        await q.produce(topic, produced(12, 'b'));
        const later: QueueMessage[] = [];
        const again = await q.subscribe(topic, 'g1', into(later), { maxWaitMs: 200, sessionTimeoutMs: 1000 });
        await until(
          () => later.length >= 12,
          () => `${later.length} of 12 new messages handed over`,
        );
        // Anything older would have come by now: a message handed over but never acknowledged is redelivered after
        // the session (1 s) on both sides.
        await new Promise((r) => setTimeout(r, 1500));
        await again.close();
        expect(later.map((m) => m.value).sort()).toEqual(
          produced(12, 'b')
            .map((m) => m.value)
            .sort(),
        );
      },
      timeLimit(60_000),
    );

    it(
      'hands a message whose handler failed over again, and nothing later of its key before it',
      async () => {
        const seen: QueueMessage[] = [];
        const failOnce = new Set(['a:k2:2', 'a:k4:10']);
        const s = await q.subscribe(
          topic,
          'g2',
          (m) => {
            seen.push(m);
            if (failOnce.delete(m.value)) throw new Error(`handler failed on ${m.value} (deliberately)`);
          },
          { maxWaitMs: 200, retryDelayMs: 100 },
        );
        await until(
          () => new Set(seen.map((m) => m.value)).size >= 72,
          () => `${new Set(seen.map((m) => m.value)).size} of 72 distinct`,
        );
        await s.close();
        for (const v of ['a:k2:2', 'a:k4:10']) {
          const tries = seen.filter((m) => m.value === v);
          expect(
            tries.map((m) => m.deliveries),
            v,
          ).toEqual([1, 2]);
        }
        // Per key: the produced order, with the failed message repeated right where it failed.
        const k2 = perKey(seen).get('k2')!;
        expect(k2.slice(0, 3)).toEqual(['a:k2:2', 'a:k2:2', 'a:k2:8']);
      },
      timeLimit(60_000),
    );

    it(
      'gives every group all of the topic (groups are independent)',
      async () => {
        const seen: QueueMessage[] = [];
        const s = await q.subscribe(topic, 'g3', into(seen), { maxWaitMs: 200 });
        await until(
          () => seen.length >= 72,
          () => `${seen.length} of 72`,
        );
        await s.close();
        expect(new Set(seen.map((m) => m.value)).size).toBe(72);
      },
      timeLimit(60_000),
    );

    it(
      'starts a new group at the end with startAt latest',
      async () => {
        const seen: QueueMessage[] = [];
        const s = await q.subscribe(topic, 'g4', into(seen), { maxWaitMs: 200, startAt: 'latest' });
        await q.produce(topic, [{ key: 'k9', value: 'c:k9:0' }]);
        await until(
          () => seen.length >= 1,
          () => 'the new message was not handed over',
        );
        await new Promise((r) => setTimeout(r, 300));
        await s.close();
        expect(seen.map((m) => m.value)).toEqual(['c:k9:0']);
        // startAt is only where a group with nothing committed starts: back with the same option, the group goes
        // on from its position, so what was produced while it was away is handed over.
        await q.produce(topic, [{ key: 'k9', value: 'c:k9:1' }]);
        const back = await q.subscribe(topic, 'g4', into(seen), {
          maxWaitMs: 200,
          startAt: 'latest',
          sessionTimeoutMs: 1000,
        });
        await q.produce(topic, [{ key: 'k9', value: 'c:k9:2' }]);
        await until(
          () => seen.length >= 3,
          () => `handed over on return: ${seen.slice(1).map((m) => m.value)}`,
        );
        await new Promise((r) => setTimeout(r, 300));
        await back.close();
        expect(seen.map((m) => m.value)).toEqual(['c:k9:0', 'c:k9:1', 'c:k9:2']);
      },
      timeLimit(60_000),
    );

    it(
      "keeps an existing topic's partitions when another client creates it again with another count",
      async () => {
        const seen: QueueMessage[] = [];
        const s = await q.subscribe(topic, 'g5', into(seen), { maxWaitMs: 200, startAt: 'latest' });
        const other = await another();
        try {
          await other.createTopic(topic, { partitions: 5 });
          await other.produce(
            topic,
            KEYS.map((key) => ({ key, value: `d:${key}` })),
          );
        } finally {
          await other.close();
        }
        await until(
          () => seen.length >= KEYS.length,
          () => `${seen.length} of ${KEYS.length}`,
        );
        await s.close();
        for (const m of seen) expect(m.partition, m.key!).toBe(specPartition(m.key!, 3));
      },
      timeLimit(60_000),
    );

    it(
      'keeps messages for the retention period given at creation',
      async () => {
        const kept = `${topic}_kept`;
        await q.createTopic(kept, { partitions: 1, retentionMs: 600_000 });
        await q.produce(
          kept,
          ['r0', 'r1', 'r2'].map((value) => ({ key: 'k0', value })),
        );
        await new Promise((r) => setTimeout(r, 1000));
        const seen: QueueMessage[] = [];
        const s = await q.subscribe(kept, 'g6', into(seen), { maxWaitMs: 200 });
        await until(
          () => seen.length >= 3,
          () => `${seen.map((m) => m.value)} of r0, r1, r2 (produced a second ago, kept for ten minutes)`,
          5_000,
        );
        await s.close();
        expect(seen.map((m) => m.value)).toEqual(['r0', 'r1', 'r2']);
      },
      timeLimit(60_000),
    );

    it(
      'commits the message whose handler was running when the subscription closed',
      async () => {
        const closing = `${topic}_close`;
        await q.createTopic(closing, { partitions: 1 });
        await q.produce(
          closing,
          ['x0', 'x1', 'x2'].map((value) => ({ key: 'k0', value })),
        );
        const seen: string[] = [];
        let release = () => {};
        const held = new Promise<void>((r) => {
          release = r;
        });
        const s = await q.subscribe(
          closing,
          'g7',
          async (m) => {
            seen.push(m.value);
            if (m.value === 'x1') await held;
          },
          { maxWaitMs: 200, sessionTimeoutMs: 1000 },
        );
        await until(
          () => seen.includes('x1'),
          () => `handed over ${seen}`,
        );
        // close() waits for the handler in progress, then commits what it consumed: x1 included.
        const closed = s.close();
        await new Promise((r) => setTimeout(r, 300));
        release();
        await closed;
        const later: string[] = [];
        const again = await q.subscribe(
          closing,
          'g7',
          (m) => {
            later.push(m.value);
          },
          { maxWaitMs: 200, sessionTimeoutMs: 1000 },
        );
        await until(
          () => later.includes('x2'),
          () => `handed over on return: ${later}`,
        );
        // A message handed over but never acknowledged comes back after the session (1 s) on both sides.
        await new Promise((r) => setTimeout(r, 1500));
        await again.close();
        expect(seen.slice(0, 2)).toEqual(['x0', 'x1']);
        expect(later, 'x0 and x1 were consumed before the close: only x2 is due').toEqual(['x2']);
      },
      timeLimit(60_000),
    );
  });
}

let broker: { target: ProcessTarget; runDir: string } | undefined;
contract(
  'HTTP, the reference broker',
  async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-20-client-'));
    const target = await ProcessTarget.start({ manifest: loadManifest(MANIFEST), runDir, embedded: true });
    broker = { target, runDir };
    return new HttpQueueClient(target.nodeUrl());
  },
  async () => new HttpQueueClient(broker!.target.nodeUrl()),
  async () => {
    await broker?.target.close();
    if (broker) rmSync(broker.runDir, { recursive: true, force: true });
  },
);

describe('HTTP client, two members of one group', () => {
  it(
    'splits the partitions between them, each partition on one member, and every message is handed over',
    async () => {
      const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-20-client-'));
      const target = await ProcessTarget.start({ manifest: loadManifest(MANIFEST), runDir, embedded: true });
      const q = new HttpQueueClient(target.nodeUrl());
      try {
        await q.createTopic('split', { partitions: 4 });
        await q.produce('split', produced(80, 's'));
        const a: QueueMessage[] = [];
        const b: QueueMessage[] = [];
        const sa = await q.subscribe('split', 'g', into(a), { maxWaitMs: 200, sessionTimeoutMs: 1500 });
        const sb = await q.subscribe('split', 'g', into(b), { maxWaitMs: 200, sessionTimeoutMs: 1500 });
        // The first member learns of the second's join from a heartbeat (a third of the session).
        await until(
          () => sa.partitions().length === 2 && sb.partitions().length === 2,
          () => `partitions ${sa.partitions()} and ${sb.partitions()}`,
        );
        await until(
          () => new Set([...a, ...b].map((m) => m.value)).size >= 80,
          () => `${a.length}+${b.length} of 80`,
        );
        expect([...sa.partitions(), ...sb.partitions()].sort()).toEqual([0, 1, 2, 3]);
        // At-least-once: what the first member consumed but could not commit before it heard of the rebalance (its
        // commit of the old generation is refused) is handed over again, so the first round may repeat messages.
        await q.produce('split', produced(20, 't'));
        const second = () => [...a, ...b].filter((m) => m.value.startsWith('t:'));
        await until(
          () => new Set(second().map((m) => m.value)).size >= 20,
          () => `${second().length} of 20 in round two`,
        );
        await new Promise((r) => setTimeout(r, 300));
        // After the rebalance settled, each member gets only its own partitions' messages, each once.
        for (const m of a.filter((x) => x.value.startsWith('t:'))) expect(sa.partitions()).toContain(m.partition);
        for (const m of b.filter((x) => x.value.startsWith('t:'))) expect(sb.partitions()).toContain(m.partition);
        expect(
          second()
            .map((m) => m.value)
            .sort(),
        ).toEqual(
          produced(20, 't')
            .map((m) => m.value)
            .sort(),
        );
      } finally {
        await q.close();
        await target.close();
        rmSync(runDir, { recursive: true, force: true });
      }
    },
    timeLimit(60_000),
  );
});

/**
 * A proxy in front of the broker that holds the first produce back until another produce arrives (or `holdMs` passes),
 * so a client that sends one partition's batches at once has its second batch appended first. A client that waits for
 * each batch's answer sends no second produce while the first is held: for it this only adds `holdMs`.
 */
async function holdFirstProduce(upstream: string, holdMs: number): Promise<{ url: string; server: Server }> {
  let held: (() => void) | undefined;
  let produces = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const isProduce = req.method === 'POST' && /\/messages$/.test(req.url ?? '');
      if (isProduce && produces++ === 0)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, holdMs);
          held = () => {
            clearTimeout(t);
            resolve();
          };
        });
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const r = await fetch(`${upstream}${req.url}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        ...(body && req.method !== 'GET' ? { body } : {}),
      });
      const text = await r.text();
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
      res.end(text);
      // A second produce while the first is held: it went first; now the first may go.
      if (isProduce && produces > 1) held?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('HTTP client, one key over several batches', () => {
  it(
    "sends one partition's batches one after another: 1,001 messages of one key are appended in the order given",
    async () => {
      const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-20-client-'));
      const target = await ProcessTarget.start({ manifest: loadManifest(MANIFEST), runDir, embedded: true });
      const proxy = await holdFirstProduce(target.nodeUrl(), 1500);
      const q = new HttpQueueClient(proxy.url);
      try {
        await q.createTopic('batches', { partitions: 1 });
        const values = Array.from({ length: 1001 }, (_, i) => `b:${i}`);
        await q.produce(
          'batches',
          values.map((value) => ({ key: 'one', value })),
          { acks: '1' },
        );
        const read: string[] = [];
        while (read.length < values.length) {
          const r = await fetch(
            `${target.nodeUrl()}/api/v1/topics/batches/partitions/0/messages?offset=${read.length}&maxWait=0`,
          );
          const body = (await r.json()) as { messages: { value: string }[] };
          expect(r.status).toBe(200);
          expect(body.messages.length).toBeGreaterThan(0);
          read.push(...body.messages.map((m) => m.value));
        }
        expect(read).toEqual(values);
      } finally {
        await q.close();
        await new Promise((r) => proxy.server.close(r));
        await target.close();
        rmSync(runDir, { recursive: true, force: true });
      }
    },
    timeLimit(60_000),
  );
});

describe('HTTP client, tag filtering', () => {
  it(
    'passes tags through produce and hands a subscription filtered by tags only the messages carrying one of them',
    async () => {
      const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-20-client-'));
      const target = await ProcessTarget.start({ manifest: loadManifest(MANIFEST), runDir, embedded: true });
      const q = new HttpQueueClient(target.nodeUrl());
      try {
        await q.createTopic('tagged', { partitions: 2 });
        const batch = (round: string) =>
          Array.from({ length: 40 }, (_, i) => ({
            key: KEYS[i % KEYS.length]!,
            value: `${round}:${i}`,
            ...(i % 3 === 0 ? { tags: ['paid'] } : i % 3 === 1 ? { tags: ['refunded', 'eu'] } : {}),
          }));
        const wanted = (round: string) =>
          batch(round)
            .filter((m) => m.tags?.includes('paid') || m.tags?.includes('eu'))
            .map((m) => m.value)
            .sort();
        await q.produce('tagged', batch('r1'));
        const seen: QueueMessage[] = [];
        const sub = await q.subscribe('tagged', 'billing', into(seen), { maxWaitMs: 200, tags: ['paid', 'eu'] });
        const values = (round: string) =>
          seen
            .filter((m) => m.value.startsWith(`${round}:`))
            .map((m) => m.value)
            .sort();
        await until(
          () => values('r1').length >= wanted('r1').length,
          () => `${values('r1').length} of ${wanted('r1').length}`,
        );
        await q.produce('tagged', batch('r2'));
        await until(
          () => values('r2').length >= wanted('r2').length,
          () => `${values('r2').length} of ${wanted('r2').length}`,
        );
        await new Promise((r) => setTimeout(r, 300));
        expect(values('r1')).toEqual(wanted('r1'));
        expect(values('r2')).toEqual(wanted('r2'));
        for (const m of seen)
          expect(
            m.tags?.some((t) => t === 'paid' || t === 'eu'),
            m.value,
          ).toBe(true);
        await sub.close();
      } finally {
        await q.close();
        await target.close();
        rmSync(runDir, { recursive: true, force: true });
      }
    },
    timeLimit(60_000),
  );
});

describe('HTTP client, delayed messages', () => {
  it(
    'passes delayMs through produce: a subscription gets the delayed message no sooner, after the one produced at once',
    async () => {
      const runDir = mkdtempSync(join(tmpdir(), 'sdgrade-20-client-'));
      const target = await ProcessTarget.start({ manifest: loadManifest(MANIFEST), runDir, embedded: true });
      const q = new HttpQueueClient(target.nodeUrl());
      try {
        await q.createTopic('reminders', { partitions: 1 });
        const seen: { m: QueueMessage; at: number }[] = [];
        const sub = await q.subscribe('reminders', 'checker', (m) => {
          seen.push({ m, at: Date.now() });
        });
        const sentAt = Date.now();
        await q.produce('reminders', [
          { key: 'payment-88', value: 'verify payment 88', tags: ['verify'], delayMs: 800 },
          { key: 'payment-89', value: 'now' },
        ]);
        await until(
          () => seen.length >= 2,
          () => `${seen.length} of 2`,
        );
        expect(seen.map((s) => s.m.value)).toEqual(['now', 'verify payment 88']);
        expect(seen[1]!.at - sentAt).toBeGreaterThanOrEqual(800);
        expect(seen[1]!.m.tags).toEqual(['verify']);
        await sub.close();
      } finally {
        await q.close();
        await target.close();
        rmSync(runDir, { recursive: true, force: true });
      }
    },
    timeLimit(60_000),
  );
});

let nats: NatsServer | undefined;
if (natsMissing === null)
  contract(
    'NATS JetStream',
    async () => {
      nats = await startNatsServer();
      return NatsQueueClient.connect(nats.url);
    },
    async () => NatsQueueClient.connect(nats!.url),
    async () => {
      await nats?.stop();
    },
  );
else describe.skip(`queue client contract: NATS JetStream (skipped: ${natsMissing})`, () => it('needs nats-server'));
