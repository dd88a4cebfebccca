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
  mutant?: MutantName | undefined;
}

export function groupHandlers(d: GroupHandlerDeps): Record<string, OperationHandler> {
  const { groups, topics, mutant } = d;
  return {
    async joinGroup(request, reply) {
      const away = d.viaController(request, reply);
      if (away) return away;
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
      const away = d.viaController(request, reply);
      if (away) return away;
      const { group, memberId } = request.params as { group: string; memberId: string };
      return reply.code(200).send(groups.heartbeat(group, memberId));
    },

    async leaveGroup(request, reply) {
      const away = d.viaController(request, reply);
      if (away) return away;
      const { group, memberId } = request.params as { group: string; memberId: string };
      groups.leave(group, memberId);
      return reply.code(204).send();
    },

    async describeGroup(request, reply) {
      const away = d.viaController(request, reply);
      if (away) return away;
      const { group } = request.params as { group: string };
      return reply.code(200).send(groups.describe(group));
    },

    async commitOffsets(request, reply) {
      const away = d.viaController(request, reply);
      if (away) return away;
      const { group } = request.params as { group: string };
      const b = request.body as {
        memberId: string;
        generation: number;
        offsets: { partition: number; offset: number }[];
      };
      const endOffset = (p: number) => {
        const g = groups.describe(group);
        return topics.get(g.topic)?.logs[p]?.endOffset ?? 0;
      };
      return reply.code(200).send(groups.commit(group, b.memberId, b.generation, b.offsets, endOffset));
    },

    async fetchOffsets(request, reply) {
      const away = d.viaController(request, reply);
      if (away) return away;
      const { group } = request.params as { group: string };
      return reply.code(200).send(groups.offsets(group));
    },
  };
}
