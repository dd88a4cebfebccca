// Two of the delayed-message mutants (from the bb20d blind bugs) and one of produce's text, as a preHandler of their
// own rather than edits of the produce handler: that handler's lines are what the blind-bug patches apply to.
// Installed only when one of them is chosen; the reference itself never runs this.
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../kit/problem.ts';
import type { OutgoingMessage } from './app.ts';
import type { DelayStore } from './delay-store.ts';
import type { MutantName } from './mutants.ts';
import type { TopicRegistry } from './topic-registry.ts';

const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function installDelayMutants(
  app: FastifyInstance,
  mutant: MutantName,
  topics: TopicRegistry,
  delays: DelayStore | undefined,
): void {
  if (mutant !== 'delay-cap-in-seconds' && mutant !== 'delay-kept-on-refused-batch' && mutant !== 'lone-surrogate-kept')
    return;
  app.addHook('preHandler', async (request) => {
    const { topic } = (request.params ?? {}) as { topic?: string };
    const body = request.body as { messages?: OutgoingMessage[] } | undefined;
    const t = topic === undefined ? undefined : topics.get(topic);
    if (request.method !== 'POST' || !t || !Array.isArray(body?.messages)) return;
    // MUTANT lone-surrogate-kept: a lone UTF-16 surrogate is taken as text (UTF-8 stores U+FFFD in its place).
    if (mutant === 'lone-surrogate-kept')
      for (const m of body.messages) {
        m.value = m.value.replace(LONE_SURROGATES, '\uFFFD');
        if (typeof m.key === 'string') m.key = m.key.replace(LONE_SURROGATES, '\uFFFD');
      }
    for (const [i, m] of body.messages.entries()) {
      // MUTANT delay-cap-in-seconds: a hand-written seven-day cap in seconds refuses delays above 604,800 ms.
      if (mutant === 'delay-cap-in-seconds' && (m.delayMs ?? 0) > 7 * 24 * 3600)
        throw new ProblemError(400, 'invalid_request', `messages/${i}: delayMs is at most seven days`);
    }
    // MUTANT delay-kept-on-refused-batch: a batch about to be refused (an unknown partition) keeps its delayed
    // messages anyway.
    if (mutant === 'delay-kept-on-refused-batch' && body.messages.some((m) => (m.partition ?? 0) >= t.partitions))
      for (const m of body.messages)
        if ((m.delayMs ?? 0) > 0 && (m.partition ?? 0) < t.partitions)
          delays?.add(
            [
              {
                topic: t.name,
                partition: m.partition ?? 0,
                deliverAt: Date.now() + m.delayMs!,
                key: m.key ?? null,
                value: m.value,
                tags: m.tags,
              },
            ],
            true,
          );
  });
}
