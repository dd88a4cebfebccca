// The mutants of the fault checks (SE-F*: the engine killed and replayed, duplicate submissions, restarts, the risk
// day's end; a part of mutants.ts's list, kept apart for its length).
export const FAULT_MUTANTS = [
  {
    name: 'wall-clock-in-matching',
    breaks: 'SE-F1',
    description: "a fill's time is read from the wall clock while matching: the replay after a restart diverges",
  },
  {
    name: 'cancel-not-logged',
    breaks: 'SE-F1',
    description: 'cancels are applied but not written to the event log: after a restart the order is back in the book',
  },
  {
    name: 'duplicate-race',
    breaks: 'SE-F2',
    description:
      'the duplicate clientOrderId lookup happens before a 20 ms asynchronous step: concurrent submissions create several orders',
  },
  {
    name: 'client-order-ids-lost-on-restart',
    breaks: 'SE-F1',
    description:
      'the order manager, not the engine, indexes clientOrderIds: after a restart a retry places a second order',
  },
  {
    name: 'order-ids-reused-after-restart',
    breaks: 'SE-F1',
    description: 'the order manager counts order IDs and the replay does not advance them: new orders reuse old IDs',
  },
  {
    name: 'sequence-resumes-before-fills',
    breaks: 'SE-F1',
    description:
      "recovery takes the last sequence ID from inbound events only: the next event reuses a logged fill's ID",
  },
  {
    name: 'recovery-reads-first-page',
    breaks: 'SE-F1',
    description: 'recovery replays only the first 1,000 events of the log (a paged read never continued)',
  },
  {
    name: 'md-seq-reset-on-recovery',
    breaks: 'SE-F1',
    description:
      "after a restart every symbol's market-data seq starts again at 0 (the book is right): the snapshot's seq is not the log's",
  },
  {
    name: 'md-stop-drops-subscribers',
    breaks: 'SE-F1',
    description: 'a stopping server drops the subscribers without a close frame (they see 1006), not 1001',
  },
  {
    name: 'events-owners-lost-on-restart',
    breaks: 'SE-F1',
    description:
      "the order owners a user's view of the log needs are indexed at placement, not by the replay: after a restart a user no longer reads the fills and cancels of their earlier orders (blind bug)",
  },
  {
    name: 'torn-tail-kept',
    breaks: 'SE-F1',
    description:
      'a torn write at the end of the file log is skipped at start but left in the file: the next event is written onto it, and the start after that meets a line that is no event',
  },
  {
    name: 'risk-day-never-resets',
    breaks: 'SE-F6',
    description:
      'the daily risk counter never starts again: a user who ordered 1,000,000 shares of a symbol is refused the next UTC day too',
  },
  {
    name: 'risk-day-from-clock',
    breaks: 'SE-F6',
    description:
      "an order's risk day is read from the exchange's clock when the engine applies it, not from its sequenced time: live they agree, but a replay after a restart counts every logged order in the restart's day",
  },
] as const satisfies readonly { name: string; breaks: string; description: string; needs?: readonly string[] }[];
