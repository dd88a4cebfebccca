// The consumer-group operations of chapter 20's API (join, heartbeat, leave, describe, commit and fetch offsets):
// answered by the controller (any other broker redirects), each delegated to the group coordinator.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperationHandler } from '../kit/create-app.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { MutantName } from './mutants.ts';
import type { Topic, TopicRegistry } from './topic-registry.ts';

/** The spec's default session timeout for a join that leaves it out. */
const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

export interface GroupHandlerDeps {
  groups: GroupCoordinator;
  topics: TopicRegistry;
  topicOr404: (name: string) => Topic;
  /** Answers the redirect to the controller when this broker is not it (the reply sent), else null. */
  viaController: (request: FastifyRequest, reply: FastifyReply) => FastifyReply | null;
  /** Resolves once a newly elected controller has read the groups its predecessors stored (a cluster). */
  groupsReady?: () => Promise<void>;
  /** A partition's end offset asked of its leader when this broker holds no replica of it (a cluster), else null. */
  leaderEndOffset?: (topic: string, partition: number) => Promise<number | null>;
  mutant?: MutantName | undefined;
}

export function groupHandlers(d: GroupHandlerDeps): Record<string, OperationHandler> {
  const { groups, topics, mutant } = d;
  /**
   * True when this broker answered the redirect to the controller; else false, once the groups are loaded. (A
   * boolean, not the reply: a FastifyReply is thenable, so awaiting one would wait for it to be sent.)
   */
  const redirected = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (d.viaController(request, reply)) return true;
    await d.groupsReady?.();
    return false;
  };
  return {
    async joinGroup(request, reply) {
      if (await redirected(request, reply)) return reply;
      const { group } = request.params as { group: string };
      const b = request.body as { topic: string; memberId?: string; sessionTimeoutMs?: number };
      const t = d.topicOr404(b.topic);
      return reply.code(200).send(
        groups.join(
          group,
          t.name,
          t.partitions,
          b.memberId,
          // MUTANT session-default-3s: Kafka's heartbeat interval (3 s) taken for the session timeout's default.
          b.sessionTimeoutMs ?? (mutant === 'session-default-3s' ? 3000 : DEFAULT_SESSION_TIMEOUT_MS),
        ),
      );
    },

    async heartbeat(request, reply) {
      if (await redirected(request, reply)) return reply;
      const { group, memberId } = request.params as { group: string; memberId: string };
      return reply.code(200).send(groups.heartbeat(group, memberId));
    },

    async leaveGroup(request, reply) {
      if (await redirected(request, reply)) return reply;
      const { group, memberId } = request.params as { group: string; memberId: string };
      groups.leave(group, memberId);
      return reply.code(204).send();
    },

    async describeGroup(request, reply) {
      if (await redirected(request, reply)) return reply;
      const { group } = request.params as { group: string };
      return reply.code(200).send(groups.describe(group));
    },

    async commitOffsets(request, reply) {
      if (await redirected(request, reply)) return reply;
      const { group } = request.params as { group: string };
      const b = request.body as {
        memberId: string;
        generation: number;
        offsets: { partition: number; offset: number }[];
      };
      // A cluster's controller may hold no replica of a partition (its copy is empty): the leader's end, asked first.
      const fromLeader = new Map<number, number>();
      const topic = groups.has(group) ? groups.describe(group).topic : undefined;
      if (topic && d.leaderEndOffset)
        for (const { partition } of b.offsets) {
          const end = await d.leaderEndOffset(topic, partition);
          if (end !== null) fromLeader.set(partition, end);
        }
      const endOffset = (p: number) => {
        const g = groups.describe(group);
        return fromLeader.get(p) ?? topics.get(g.topic)?.logs[p]?.endOffset ?? 0;
      };
      const committed = groups.commit(group, b.memberId, b.generation, b.offsets, endOffset);
      // Answered once durable where the next controller reads it (a cluster's etcd), not only on this broker's disk.
      await groups.saved();
      return reply.code(200).send(committed);
    },

    async fetchOffsets(request, reply) {
      if (await redirected(request, reply)) return reply;
      const { group } = request.params as { group: string };
      return reply.code(200).send(groups.offsets(group));
    },
  };
}
