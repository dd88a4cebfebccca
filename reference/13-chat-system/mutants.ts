// Deliberately broken variants of the reference, one check each (IDs from specs/13-chat-system/catalog.yaml).
// MUTANT=<name> selects one (every node of the manifest gets it); the code that breaks sits where the broken thing
// lives, in an `if (mutant === '<name>')` marked `MUTANT <name>`. The harness self-test must catch every one.
import type { Mutant } from '../../harness/chapters/chapter-module.ts';

export const MUTANTS = [
  {
    name: 'health-plain-text',
    breaks: 'CHAT-C1',
    description: 'readiness answers text/plain "ok", not the Health body',
  },
  {
    name: 'direct-not-reused',
    breaks: 'CHAT-C2',
    description: "every one-on-one request makes a new channel (201) instead of returning the pair's channel (200)",
  },
  {
    name: 'bad-token-accepted',
    breaks: 'CHAT-C3',
    description: 'the WebSocket auth reads the token without checking its signature',
  },
  {
    name: 'store-then-check-member',
    breaks: 'CHAT-C3',
    description:
      "a send is stored before the sender's membership is checked: the send is refused not_member, but the message is in the channel anyway",
  },
  {
    name: 'no-auth-timeout',
    breaks: 'CHAT-C4',
    description: 'a WebSocket that never sends auth is kept open for ever (no close 4001 after the auth timeout)',
  },
  {
    name: 'per-server-sequence',
    breaks: 'CHAT-I1',
    description:
      "each chat server numbers a channel's messages itself (server k of 2: k, k+2, ...): unique, but a later message on one server can sort before an earlier one on the other",
  },
  {
    name: 'relay-reorders',
    breaks: 'CHAT-I1',
    description:
      "a chat server holds each connection's live messages for 50 ms and sends them newest first: every message arrives, out of the channel's order",
  },
  {
    name: 'no-cross-server-relay',
    breaks: 'CHAT-I2',
    description: "a message reaches live only the members connected to the sender's chat server",
  },
  {
    name: 'no-dedup',
    breaks: 'CHAT-I3',
    description: 'a resend with the same client message ID stores a second message',
  },
  {
    name: 'dedup-ignores-channel',
    breaks: 'CHAT-I3',
    description:
      "the chat server remembers sends by (sender, clientMessageId), without the channel: the same client ID in a second channel answers the first channel's message as a duplicate and stores nothing",
  },
  {
    name: 'dedup-ignores-sender',
    breaks: 'CHAT-I3',
    description:
      "the store looks an earlier copy up by (channel, clientMessageId), without the sender: another member's message with the same client ID is swallowed as a duplicate",
  },
  {
    name: 'sync-skips-own',
    breaks: 'CHAT-I4',
    description: 'sync leaves out the user\'s own messages ("you sent them"): the user\'s other devices never get them',
  },
  {
    name: 'sync-ignores-cursor',
    breaks: 'CHAT-I5',
    description: 'sync ignores cur_max_message_id and sends every message of every channel again',
  },
  {
    name: 'offline-on-disconnect',
    breaks: 'CHAT-I6',
    description: 'a user is offline the moment their last connection closes (no heartbeat timeout): status flaps',
  },
  {
    name: 'push-always',
    breaks: 'CHAT-I7',
    description: 'every member gets a push for every message, connected or not',
  },
  { name: 'group-limit-101', breaks: 'CHAT-I8', description: 'a group takes a 101st member' },
  {
    name: 'length-in-utf16-units',
    breaks: 'CHAT-I8',
    description:
      'the text limit counts UTF-16 code units (String.length), not characters: 100,000 emoji count as 200,000 and are refused',
  },
  {
    name: 'unvalidated-input',
    breaks: 'CHAT-I9',
    description: "createUser reaches its handler without the spec's validation (the schema-driven bad-input check)",
  },
  {
    name: 'discovery-keeps-dead',
    breaks: 'CHAT-F1',
    description: 'service discovery keeps handing out a chat server that died',
  },
  {
    name: 'dedup-per-connection',
    breaks: 'CHAT-F2',
    description:
      "resends are recognised only on the connection that sent first (a chat server's memory), so a resend after a reconnect duplicates",
  },
  {
    name: 'no-backpressure',
    breaks: 'CHAT-F3',
    description: 'a client that does not read is never closed: the server buffers for it without bound',
  },
  {
    name: 'api-state-in-memory',
    breaks: 'CHAT-F4',
    description:
      'each API server keeps the sessions it issued in its own memory: a token from an API server that died is refused by the others',
  },
  {
    name: 'ack-before-store',
    breaks: 'CHAT-F5',
    needs: ['SDGRADE_REDIS_URL'],
    description:
      'a chat server answers `sent` with the ID it expects before the store has the message: when the store is down, acknowledged messages are lost',
  },
] as const satisfies readonly Mutant[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
