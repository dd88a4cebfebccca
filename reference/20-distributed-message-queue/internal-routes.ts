// The brokers' own protocol (not in the spec: another implementation may use any): the state the controller pushes
// (brokers also watch it in etcd), ISR changes sent to the controller, and replication fetches.
import type { FastifyInstance } from 'fastify';
import type { Cluster, ClusterState } from './cluster.ts';

export function registerInternalRoutes(app: FastifyInstance, cluster: Cluster): void {
  const big = { bodyLimit: 64 * 1024 * 1024 };
  app.post('/internal/v1/state', big, async (request) => {
    const { revision, ...state } = request.body as ClusterState & { revision: number };
    cluster.apply(state, revision);
    return {};
  });
  app.post('/internal/v1/isr', async (request) => {
    const b = request.body as { from: string; topic: string; partition: number; epoch: number; isr: string[] };
    return await cluster.changeIsr(b.from, b.topic, b.partition, b.epoch, b.isr);
  });
  app.post('/internal/v1/replicate', async (request, reply) => {
    const r = await cluster.replicate(request.body as Parameters<Cluster['replicate']>[0]);
    if (!r) return reply.code(409).send({ error: 'not the leader of this partition in this epoch' });
    return r;
  });
}
