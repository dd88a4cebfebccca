// The chapter 07 reference node: node --import tsx reference/07-key-value-store/main.ts
// One process per node; a cluster is several, each given the others in PEERS (see README.md for the environment).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HashRing } from '../06-consistent-hashing/ring.ts';
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { parsePeers } from '../kit/peers.ts';
import { runServer } from '../kit/run-server.ts';
import { Repair } from './anti-entropy.ts';
import { buildApp, MAX_SIBLINGS, SPEC_URL } from './app.ts';
import { type MergeMode, setFoldPastGaps } from './clock.ts';
import { Coordinator } from './coordinator.ts';
import { Gossip } from './gossip.ts';
import { HintStore } from './hints.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { Peers } from './peers.ts';
import { Placement } from './placement.ts';
import { StorageEngine } from './storage/engine.ts';

export const CHAPTER = '07-key-value-store';

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${text}'`);
  return Number(text);
}

/**
 * This node's actor ID in version vectors: its name plus an incarnation made when its data directory is new, so a
 * node replaced by an empty one never reuses the dots of its predecessor.
 */
function actorId(dataDir: string, name: string, mutant?: MutantName): string {
  // MUTANT actor-without-incarnation: the actor is the node's name, so an empty replacement reuses its dots.
  if (mutant === 'actor-without-incarnation') return name;
  const file = join(dataDir, 'actor');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const actor = `${name}.${randomBytes(2).toString('hex')}`;
  writeFileSync(file, actor);
  return actor;
}

/**
 * This run's gossip generation (Cassandra's): the wall clock at start, and above the last one kept in the data
 * directory should the clock have stepped back, so a restarted node's heartbeat beats its pre-crash one at once.
 */
function nextGeneration(dataDir: string): number {
  const file = join(dataDir, 'generation');
  const last = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || 0 : 0;
  const generation = Math.max(Date.now(), last + 1);
  writeFileSync(file, String(generation));
  return generation;
}

await runServer({
  chapter: CHAPTER,
  defaultPort: 8070,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const self = process.env['NODE_NAME']?.trim() || 'n1';
    const peerUrls = parsePeers(process.env['PEERS']);
    const size = peerUrls.size + 1;
    const n = intEnv('N', Math.min(3, size), 1, size);
    const w = intEnv('W', Math.min(2, n), 1, n);
    const r = intEnv('R', Math.min(2, n), 1, n);
    setFoldPastGaps(mutant === 'clock-folds-dots-past-gaps');
    const mergeMode: MergeMode =
      mutant === 'plain-version-vectors'
        ? 'plain-version-vectors'
        : mutant === 'last-writer-wins'
          ? 'last-writer-wins'
          : 'dots';
    // MUTANT no-rpc-timeout / short-rpc-timeout: the deadline of node-to-node calls.
    const rpcTimeoutMs =
      mutant === 'no-rpc-timeout'
        ? 0
        : mutant === 'short-rpc-timeout'
          ? 60
          : intEnv('RPC_TIMEOUT_MS', 1000, 50, 60_000);

    const ring = new HashRing({
      virtualNodes: intEnv('VIRTUAL_NODES', 128, 1, 4096),
      // MUTANT replicas-on-one-node: chapter 06's ring walks virtual nodes without skipping repeated servers.
      ...(mutant === 'replicas-on-one-node' ? { mutant: 'replicas-same-server' as const } : {}),
    });
    for (const m of [self, ...peerUrls.keys()]) ring.set(m);
    const engine = new StorageEngine({
      dir: config.dataDir,
      memtableBytes: intEnv('MEMTABLE_BYTES', 4 * 1024 * 1024, 1024, 1 << 30),
      bloom: process.env['BLOOM'] !== 'off',
      fsync: process.env['FSYNC'] === 'always',
      lazyCommitLog: mutant === 'ack-before-commit-log',
      replayLastOnly: mutant === 'siblings-lost-on-replay',
      oldestTableFirst: mutant === 'sstables-oldest-first',
      forgetTablesOnStart: mutant === 'sstables-forgotten-on-start',
      missBlockStart: mutant === 'index-misses-block-start',
      generationCountsDown: mutant === 'flush-generation-counts-down',
      localeOrder: mutant === 'sstable-sorted-by-locale',
      mergeMode,
    });
    const peers = new Peers(peerUrls, rpcTimeoutMs);
    const gossip = new Gossip({
      self,
      // MUTANT heartbeat-restarts-at-zero: every run is generation 0, so only the counter (restarted at 0) counts.
      generation: mutant === 'heartbeat-restarts-at-zero' ? 0 : nextGeneration(config.dataDir),
      peers,
      intervalMs: intEnv('GOSSIP_MS', 200, 10, 60_000),
      failAfterMs: intEnv('FAIL_AFTER_MS', 2000, 100, 600_000),
      off: mutant === 'gossip-off',
      neverDown: mutant === 'no-failure-detection',
      lastHeardInSeconds: mutant === 'last-heard-in-seconds',
    });
    const hints = new HintStore(config.dataDir, {
      forgetOnStart: mutant === 'hints-forgotten-on-restart',
      perKey: mutant === 'hint-id-per-key',
    });
    const actor = actorId(config.dataDir, self, mutant);
    const placement = new Placement(ring, n);
    const coordinator = new Coordinator({
      self,
      actor,
      ring,
      placement,
      engine,
      peers,
      gossip,
      hints,
      mergeMode,
      // MUTANT no-sibling-cap: a hot key written blind grows without bound.
      maxSiblings: mutant === 'no-sibling-cap' ? 0 : MAX_SIBLINGS,
      hedgeMs: intEnv('HEDGE_MS', 50, 0, 60_000),
      readLocalOnly: mutant === 'read-local-only',
      hintCountsAsAck: mutant === 'hint-counted-as-ack',
      acknowledgeShortQuorum: mutant === 'quorum-failure-acknowledged',
      dotFromContextOnly: mutant === 'dot-from-context-only',
      countFailedReplies: mutant === 'read-counts-failed-replies',
      capOffByOne: mutant === 'sibling-cap-off-by-one',
      absentOnShortQuorum: mutant === 'absent-key-short-quorum-404',
      skipReplicationWhenAcked: mutant === 'w1-write-skips-replication',
      batchAnswersByPosition: mutant === 'batched-read-misaligned',
    });
    const repair = new Repair({
      self,
      placement,
      engine,
      peers,
      gossip,
      hints,
      antiEntropyMs: intEnv('ANTI_ENTROPY_MS', 3000, 100, 3_600_000),
      hintIntervalMs: intEnv('HINT_MS', 500, 50, 600_000),
      // MUTANT no-repair: neither anti-entropy nor hinted handoff, so replicas that missed writes never catch up.
      antiEntropyOff: mutant === 'anti-entropy-off' || mutant === 'no-repair',
      hintsNeverDelivered: mutant === 'hints-never-delivered' || mutant === 'no-repair',
      merkleCountsOnly: mutant === 'merkle-counts-versions',
      sharedByEither: mutant === 'anti-entropy-beyond-replicas',
      skipDeletedKeys: mutant === 'anti-entropy-skips-deleted-keys',
    });
    readiness.dependencies = async () => ({ storage: 'embedded' });
    const spec = await loadSpec(SPEC_URL);
    const app = buildApp({
      spec,
      readiness,
      self,
      quorum: { n, w, r },
      ring,
      engine,
      coordinator,
      peers,
      gossip,
      hints,
      repair,
      mutant,
      logger: { level: config.logLevel },
    });
    app.log.info(
      { node: self, actor, n, w, r, peers: [...peerUrls.keys()], mutant: mutant ?? null },
      'kv node configured',
    );
    return {
      app,
      onListening: () => {
        gossip.start();
        repair.start();
      },
      close: async () => {
        gossip.stop();
        repair.stop();
        peers.close();
        engine.close();
      },
    };
  },
});
