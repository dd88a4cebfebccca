// What the controller keeps and every broker pulls: the topics, and each partition's replicas, leader, leader epoch
// and in-sync replicas; and the static placement of replicas on brokers.
import type { Topic, TopicConfig } from './topic-registry.ts';

export interface PartitionState {
  replicas: string[];
  leader: string;
  /** Grows at every leader change: a fetch or an ISR change of an older epoch is refused. */
  epoch: number;
  isr: string[];
}

export interface ClusterState {
  topics: TopicConfig[];
  partitions: Record<string, PartitionState>;
}

export const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

export function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf('/');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

/** The static placement: replica i of partition p on broker (p + i) mod n; the first is the preferred leader. */
export function placeReplicas(brokers: readonly string[], partition: number, replicationFactor: number): string[] {
  return Array.from({ length: replicationFactor }, (_, i) => brokers[(partition + i) % brokers.length]!);
}

export function configOf({ logs: _l, nextUnkeyed: _n, ...c }: Topic): TopicConfig {
  return c;
}
