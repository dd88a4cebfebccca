// Calls a fake makes back to the system under test: a PSP's `charge.succeeded` webhook, a push provider's delivery
// receipt. Real providers deliver these at least once, late and out of order; the sender can be told to do each,
// and records what it actually sent so a checker can compare it with what the system did.
//
//   const hooks = createCallbackSender({ target: `${sut}/webhooks/psp`, seed, mode: 'duplicate' });
//   void hooks.send({ id: 'evt_1', type: 'charge.succeeded', data: { ... } });   // from a fake's handler
//   await hooks.flush();                                                        // in the check
//   hooks.sent  // [{ eventId: 'evt_1', attempt: 1, status: 200 }, { eventId: 'evt_1', attempt: 2, status: 200 }]
//
// Modes: normal (send once, now); duplicate (send each event twice, one after the other, same body and id);
// reorder (hold events until `batchSize` are held, or flush(), then send the batch shuffled by the seeded PRNG;
// a batch of two or more never goes out in its original order); drop (never send; listed in `dropped`);
// delay (send each `delayMs` later).
import { type Random, seededRandom, shuffled } from './prng.ts';

export type CallbackMode = 'normal' | 'duplicate' | 'reorder' | 'drop' | 'delay';

export interface CallbackEvent {
  /** Unique per event; receivers dedupe on it, so duplicates carry the same id. */
  id: string;
  type: string;
  data?: unknown;
  [key: string]: unknown;
}

export interface CallbackModeSettings {
  mode: CallbackMode;
  /** delay: how much later each event is sent (default 1 000 ms). */
  delayMs?: number;
  /** reorder: how many events make a batch (default 5). */
  batchSize?: number;
}

export interface CallbackSenderOptions extends Partial<CallbackModeSettings> {
  /** Full URL the events are POSTed to. */
  target: string;
  /** Seed of the reorder shuffle, so a run replays. */
  seed: number;
  /** Extra headers per event, e.g. a signature over the body. */
  headers?: (event: CallbackEvent, body: string) => Record<string, string>;
  /** Per-delivery timeout (default 5 000 ms). */
  timeoutMs?: number;
}

export interface SentCallback {
  /** Order in which deliveries started, from 1. */
  seq: number;
  at: number;
  eventId: string;
  type: string;
  /** 1, or 2 for the duplicate. */
  attempt: number;
  event: CallbackEvent;
  /** The receiver's status; null when no response came (see `error`). Filled when the delivery ends. */
  status: number | null;
  error?: string;
  durationMs?: number;
}

export interface CallbackSender {
  readonly target: string;
  readonly settings: Readonly<CallbackModeSettings>;
  setMode(settings: CallbackModeSettings): void;
  /**
   * Hand an event to the sender. Resolves once it is delivered (normal, duplicate, delay), or as soon as it is
   * held (reorder) or dropped (drop). A fake's handler should not await it: `void sender.send(event)`.
   */
  send(event: CallbackEvent): Promise<void>;
  /** Send the held reorder batch now (shuffled) and wait for every delivery in flight, delayed ones included. */
  flush(): Promise<void>;
  /** Deliveries made, in the order they started. */
  readonly sent: readonly SentCallback[];
  /** Events never sent because of `drop`. */
  readonly dropped: readonly CallbackEvent[];
  /** Events currently held for a reorder batch. */
  readonly held: readonly CallbackEvent[];
  /** Cancel delayed sends not yet started and forget held events (neither is sent). */
  stop(): void;
}

export function createCallbackSender(options: CallbackSenderOptions): CallbackSender {
  const random: Random = seededRandom(options.seed);
  const timeoutMs = options.timeoutMs ?? 5_000;
  let settings: CallbackModeSettings = normalize({
    mode: options.mode ?? 'normal',
    ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
  });
  const sent: SentCallback[] = [];
  const dropped: CallbackEvent[] = [];
  let held: CallbackEvent[] = [];
  const inFlight = new Set<Promise<void>>();
  // Reorder batches go out one after another, so a later batch never overtakes an earlier one.
  let batches: Promise<void> = Promise.resolve();
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  const track = (p: Promise<void>): Promise<void> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };

  const deliver = async (event: CallbackEvent, attempt: number): Promise<void> => {
    const body = JSON.stringify(event);
    const record: SentCallback = {
      seq: sent.length + 1,
      at: Date.now(),
      eventId: event.id,
      type: event.type,
      attempt,
      event,
      status: null,
    };
    sent.push(record);
    const start = performance.now();
    try {
      const res = await fetch(options.target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers?.(event, body) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      record.status = res.status;
    } catch (err) {
      record.error = describeError(err);
    } finally {
      record.durationMs = performance.now() - start;
    }
  };

  const sendBatch = (batch: CallbackEvent[]): Promise<void> => {
    let order = shuffled(batch, random);
    if (order.length > 1 && order.every((e, i) => e === batch[i])) order = [...batch.slice(1), batch[0]!];
    batches = batches.then(async () => {
      for (const event of order) await deliver(event, 1);
    });
    return batches;
  };

  return {
    target: options.target,
    get settings() {
      return settings;
    },
    setMode(next) {
      settings = normalize(next);
    },
    send(event) {
      switch (settings.mode) {
        case 'normal':
          return track(deliver(event, 1));
        case 'duplicate':
          return track(deliver(event, 1).then(() => deliver(event, 2)));
        case 'drop':
          dropped.push(event);
          return Promise.resolve();
        case 'delay': {
          const delayMs = settings.delayMs ?? 1_000;
          return track(
            new Promise<boolean>((resolve) => {
              const entry = { timer: setTimeout(() => finish(true), delayMs), resolve: () => finish(false) };
              const finish = (go: boolean) => {
                timers.delete(entry);
                clearTimeout(entry.timer);
                resolve(go);
              };
              timers.add(entry);
            }).then((go) => (go ? deliver(event, 1) : undefined)),
          );
        }
        case 'reorder': {
          held.push(event);
          if (held.length >= (settings.batchSize ?? 5)) {
            const batch = held;
            held = [];
            void track(sendBatch(batch));
          }
          return Promise.resolve();
        }
      }
    },
    async flush() {
      if (held.length > 0) {
        const batch = held;
        held = [];
        void track(sendBatch(batch));
      }
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    sent,
    dropped,
    get held() {
      return held;
    },
    stop() {
      for (const t of [...timers]) t.resolve();
      held = [];
    },
  };
}

function normalize(s: CallbackModeSettings): CallbackModeSettings {
  const modes: CallbackMode[] = ['normal', 'duplicate', 'reorder', 'drop', 'delay'];
  if (!modes.includes(s.mode)) throw new RangeError(`unknown callback mode ${JSON.stringify(s.mode)}`);
  if (s.delayMs !== undefined && !(Number.isFinite(s.delayMs) && s.delayMs >= 0)) {
    throw new RangeError(`callback delayMs must be >= 0, got ${s.delayMs}`);
  }
  if (s.batchSize !== undefined && !(Number.isInteger(s.batchSize) && s.batchSize >= 1)) {
    throw new RangeError(`callback batchSize must be a positive integer, got ${s.batchSize}`);
  }
  return { ...s };
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  if (err.name === 'TimeoutError') return `timeout: ${err.message}`;
  if (cause?.code) return `${err.message} (${cause.code}: ${cause.message ?? ''})`;
  return cause?.message ? `${err.message} (${cause.message})` : err.message;
}
