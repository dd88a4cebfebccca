// The chapter 20 reference server: node --import tsx reference/20-distributed-message-queue/main.ts
import { createApp } from '../kit/create-app.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';

await runServer({
  chapter: '20-distributed-message-queue',
  defaultPort: 8000,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const spec = await loadSpec(new URL('../../specs/20-distributed-message-queue/openapi.yaml', import.meta.url));
    const app = createApp({
      spec,
      readiness,
      logger: { level: config.logLevel },
      // MUTANT unvalidated-input: TODO name an operation with a body or parameters.
      unvalidated: mutant === 'unvalidated-input' ? [] : [],
      handlers: {
        // MUTANT health-plain-text: readiness is not the documented body.
        ...(mutant === 'health-plain-text' ? { getReadiness: async (_q, reply) => reply.type('text/plain').send('ok') } : {}),
        // TODO: one handler per operationId of the spec.
      },
    });
    return { app, close: async () => {} };
  },
});
