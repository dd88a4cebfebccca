// The mutants of the event store's faults and recovery the balances' bound, and market data across a restart (a part of mutants.ts's list, kept apart for its length).
export const STORE_MUTANTS = [
  {
    name: 'log-loss-keeps-state',
    breaks: 'SE-F3',
    description:
      'a failed append to the event log answers 503, but the exchange keeps the unstored events: orders answered 503 rest in the book, the sequence skips their IDs, and a restart replays another book',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'log-outage-rewrites-in-doubt',
    breaks: 'SE-F4',
    description:
      'once a lost event store answers again, the events in doubt it does not hold are written and applied: an order answered 503 whose write never reached the log is placed after all (blind bug)',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'pg-reopened-without-error-listener',
    breaks: 'SE-F4',
    description:
      "the connection reopened after an outage has no 'error' listener: the next loss of PostgreSQL ends the process instead of answering 503 (blind bug)",
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'store-drops-queued-appends',
    breaks: 'SE-F5',
    description:
      "when a batch's INSERT fails, the appends queued behind it are dropped unsettled: their requests never get an answer (blind bug)",
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'cancel-applied-after-stored',
    breaks: 'SE-F2',
    description:
      'a cancel is written first and applied to the book once stored: a crossing order that arrives while the write is under way fills the order the cancel then answers canceled (blind bug)',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'copy-answered-before-stored',
    breaks: 'SE-F4',
    description:
      'a copy (the same clientOrderId) of an order whose write is under way is answered 200 at once: when that write then fails, the copy was told of an order the log never holds',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'cancel-answered-before-logged',
    breaks: 'SE-F5',
    description:
      'a cancel is answered without waiting for its append (its failure swallowed): a cancel lost with the store is acknowledged and rolled back, the order rests again (blind bug)',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'adopted-events-unpublished',
    breaks: 'SE-F5',
    description:
      "the events in doubt a lost store turns out to hold are applied but not published: a subscriber's stream misses them (blind bug)",
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'store-stalls-on-oversized-append',
    breaks: 'SE-F1',
    description:
      'the group commit never takes an append of more than 2,000 events into a batch: an order sweeping 2,000 resting orders and every write after it hang (blind bug)',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'fill-overflow-unchecked',
    breaks: 'SE-C6',
    description:
      'an order whose fill takes a balance past 2^53 - 1 is placed: the seller is credited a sum that is no exact integer',
  },
  {
    name: 'md-derived-blank-after-start',
    breaks: 'SE-F1',
    description:
      "a new subscriber's top and last candle are rebuilt from live events only: after a restart, until the symbol's next update, its first l1 frame is an empty top and no candle comes",
  },
] as const satisfies readonly { name: string; breaks: string; description: string; needs?: readonly string[] }[];
