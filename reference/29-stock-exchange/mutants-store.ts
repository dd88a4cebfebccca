// The mutants of the event store's faults and recovery and of the balances' bound (a part of mutants.ts's list, kept apart for its length).
export const STORE_MUTANTS = [
  {
    name: 'log-loss-keeps-state',
    breaks: 'SE-F3',
    description:
      'a failed append to the event log answers 503, but the exchange keeps the unstored events: orders answered 503 rest in the book, the sequence skips their IDs, and a restart replays another book',
    needs: ['SDGRADE_DATABASE_URL'],
  },
  {
    name: 'fill-overflow-unchecked',
    breaks: 'SE-C6',
    description:
      'an order whose fill takes a balance past 2^53 - 1 is placed: the seller is credited a sum that is no exact integer',
  },
] as const satisfies readonly { name: string; breaks: string; description: string; needs?: readonly string[] }[];
