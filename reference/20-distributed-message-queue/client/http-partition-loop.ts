// One owned partition of one group member: fetch from the committed offset (long polling), hand each message to the
// handler in offset order, commit the next offset after the handler resolved. A failed handler keeps its message:
// what was consumed before it is committed, and the same message is handed over again after a pause.
import type { components } from '../../../specs/20-distributed-message-queue/generated/openapi.d.ts';
import { call, pause, QueueError } from './http-call.ts';
import type { MessageHandler, SubscribeOptions } from './queue-client.ts';

type FetchResult = components['schemas']['FetchResult'];
type Topic = components['schemas']['Topic'];
type Membership = components['schemas']['Membership'];

export interface PartitionLoop {
  /** Ends the loop: the fetch in flight is abandoned, the handler in progress finishes, what it consumed is committed. */
  stop(): Promise<void>;
}

export interface PartitionLoopOptions {
  baseUrl: string;
  topic: string;
  group: string;
  partition: number;
  member: Membership;
  /** Where to start: the group's committed offset for the partition, else where `startAt` says. */
  from: number;
  handler: MessageHandler;
  options: SubscribeOptions;
}

export function startPartitionLoop(o: PartitionLoopOptions): PartitionLoop {
  const abort = new AbortController();
  const done = run(o, abort.signal).catch((e: unknown) => {
    if (!abort.signal.aborted) o.options.onError?.(e as Error);
  });
  return {
    async stop() {
      abort.abort();
      await done;
    },
  };
}

async function run(o: PartitionLoopOptions, signal: AbortSignal): Promise<void> {
  const topicPath = `/api/v1/topics/${encodeURIComponent(o.topic)}`;
  const maxWait = o.options.maxWaitMs ?? 1000;
  const retryDelay = o.options.retryDelayMs ?? 1000;
  let position = o.from;
  let committed = position;
  let failures = 0;
  const commit = async (): Promise<boolean> => {
    if (position === committed) return true;
    const body = {
      memberId: o.member.memberId,
      generation: o.member.generation,
      offsets: [{ partition: o.partition, offset: position }],
    };
    const path = `/api/v1/groups/${encodeURIComponent(o.group)}/offsets`;
    // Not abortable: a stop still commits what the handler consumed. 409 and 404: the partition is no longer this
    // member's (a rebalance it has not heard of yet); its next owner consumes again from the last commit.
    const r = await call(o.baseUrl, 'POST', path, body, [200, 404, 409], { retryForMs: 10_000 });
    if (r.status !== 200) return false;
    committed = position;
    return true;
  };
  try {
    while (!signal.aborted) {
      let batch: FetchResult;
      try {
        const tags = o.options.tags?.length ? `&tags=${encodeURIComponent(o.options.tags.join(','))}` : '';
        const q = `offset=${position}&maxWait=${maxWait}${tags}`;
        batch = (
          await call<FetchResult>(
            o.baseUrl,
            'GET',
            `${topicPath}/partitions/${o.partition}/messages?${q}`,
            undefined,
            [200],
            { signal },
          )
        ).body;
      } catch (e) {
        if (signal.aborted) return;
        // Retention removed the offset: go on from the first kept one (what was removed cannot be consumed).
        if (e instanceof QueueError && e.code === 'offset_out_of_range') {
          const t = (await call<Topic>(o.baseUrl, 'GET', topicPath, undefined, [200], { signal })).body;
          position = t.partitionStates.find((s) => s.partition === o.partition)?.logStartOffset ?? position;
          continue;
        }
        throw e;
      }
      let handledAll = true;
      for (const m of batch.messages) {
        handledAll = false;
        if (signal.aborted) break;
        try {
          await o.handler({
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value,
            timestamp: m.timestamp,
            ...(m.tags ? { tags: m.tags } : {}),
            deliveries: failures + 1,
          });
          failures = 0;
          position = m.offset + 1;
          handledAll = true;
        } catch (e) {
          failures++;
          o.options.onError?.(e as Error);
          if (!(await commit())) return;
          await pause(retryDelay, signal);
          break; // fetch again from the message that failed
        }
      }
      // Filtered by tags, the batch's nextOffset is past the messages the queue skipped: they are not fetched again.
      if (handledAll && !signal.aborted && batch.nextOffset > position) position = batch.nextOffset;
      if (!(await commit())) return;
    }
  } finally {
    await commit();
  }
}
