// The topics of the broker and their partitions' logs; topic metadata is kept in <dataDir>/topics.json (the book's
// metadata storage), each partition's log in <dataDir>/<topic>-<partition>/.
import { mkdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { DelayTarget } from './delay-store.ts';
import { readJson, writeJsonDurably } from './durable-file.ts';
import { PartitionLog, type PartitionOptions } from './partition-log.ts';
import { ProducerState } from './producer-state.ts';

export interface TopicConfig {
  name: string;
  partitions: number;
  retentionMs: number;
  replicationFactor: number;
  segmentBytes: number;
  /** In-sync replicas acks=all needs (absent: the spec's default, min(2, replicationFactor)). */
  minInsyncReplicas?: number;
}

export interface Topic extends TopicConfig {
  logs: PartitionLog[];
  /** Next partition for a message with neither key nor partition (round robin). */
  nextUnkeyed: number;
}

export class TopicExists extends Error {}

/** The spec's key -> partition: CRC-32 of the key's UTF-8 bytes, mod the partition count. */
export function partitionForKey(key: string, partitions: number, salt = ''): number {
  return crc32(Buffer.from(salt + key, 'utf8')) % partitions;
}

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();
  private readonly metaFile: string;

  constructor(
    private readonly dataDir: string,
    private readonly segmentOptions: PartitionOptions = {},
    /** Retention periods read as seconds (only for the retention-in-seconds mutant). */
    private readonly retentionInSeconds = false,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.metaFile = join(dataDir, 'topics.json');
    for (const config of readJson<TopicConfig[]>(this.metaFile) ?? []) this.open(config);
  }

  private open(config: TopicConfig): Topic {
    const shared = this.segmentOptions.producersByPartitionNumber;
    const logs = Array.from({ length: config.partitions }, (_, p) => {
      // MUTANT producer-state-per-partition-number: partition p of every topic takes the same producer state.
      if (shared && !shared[p]) shared[p] = new ProducerState();
      const options = shared ? { ...this.segmentOptions, sharedProducers: shared[p] } : this.segmentOptions;
      return new PartitionLog(join(this.dataDir, `${config.name}-${p}`), config.segmentBytes, options);
    });
    const topic = { ...config, logs, nextUnkeyed: 0 };
    this.topics.set(config.name, topic);
    return topic;
  }

  create(config: TopicConfig): Topic {
    if (this.topics.has(config.name)) throw new TopicExists(config.name);
    const topic = this.open(config);
    writeJsonDurably(
      this.metaFile,
      [...this.topics.values()].map(({ logs: _l, nextUnkeyed: _n, ...c }) => c),
    );
    return topic;
  }

  /**
   * MUTANT create-topic-race: checks the name, then writes the metadata off the event loop before registering the
   * topic; a create of the same name in between passes the check too.
   */
  async createRacy(config: TopicConfig): Promise<Topic> {
    if (this.topics.has(config.name)) throw new TopicExists(config.name);
    const configs = [...this.topics.values()].map(({ logs: _l, nextUnkeyed: _n, ...c }) => c);
    await writeFile(`${this.metaFile}.tmp`, JSON.stringify([...configs, config]));
    await rename(`${this.metaFile}.tmp`, this.metaFile);
    return this.open(config);
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  all(): Topic[] {
    return [...this.topics.values()];
  }

  applyRetention(now = Date.now()): void {
    // MUTANT retention-in-seconds: the period is divided by 1000, so segments go 1000 times too early.
    const unit = this.retentionInSeconds ? 1 / 1000 : 1;
    for (const t of this.topics.values()) for (const log of t.logs) log.applyRetention(t.retentionMs * unit, now);
  }

  close(): void {
    for (const t of this.topics.values()) for (const log of t.logs) log.close();
  }
}

/** The partitions as the delay store sees them: where a due message is appended, and what is already there. */
export function delayTargetOf(topics: TopicRegistry): DelayTarget {
  const logOf = (topic: string, partition: number) => {
    const log = topics.get(topic)?.logs[partition];
    if (!log) throw new Error(`no partition ${topic}/${partition}`);
    return log;
  };
  return {
    // Not fsynced: the journal holds the message until the restart that finds it appended.
    append: (topic, partition, messages) =>
      logOf(topic, partition)
        .append(messages, false)
        .map((r) => r.offset),
    endOffset: (topic, partition) => logOf(topic, partition).endOffset,
    holds(topic, partition, offset, m) {
      const log = topics.get(topic)?.logs[partition];
      if (!log) return true; // the topic is gone: nothing to append to
      if (offset < log.logStartOffset) return true; // appended, and removed by retention since
      if (offset >= log.endOffset) return false;
      const [r] = log.read(offset, 1);
      return (
        r?.offset === offset &&
        r.key === m.key &&
        r.value === m.value &&
        JSON.stringify(r.tags ?? []) === JSON.stringify(m.tags ?? [])
      );
    },
  };
}
