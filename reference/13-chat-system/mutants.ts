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
    name: 'discovery-most-loaded',
    breaks: 'CHAT-C2',
    description: 'service discovery names the chat server with the most connections first, not the least loaded',
  },
  {
    name: 'bad-token-accepted',
    breaks: 'CHAT-C3',
    description: 'the WebSocket auth reads the token without checking its signature',
  },
  {
    name: 'schema-misfit-ignored',
    breaks: 'CHAT-C3',
    description:
      'JSON that is not a client frame (a send without its text, an unknown type) is dropped without the invalid_frame error; only text that is not JSON gets it (a StrykerJS survivor)',
  },
  {
    name: 'echo-to-sender',
    breaks: 'CHAT-C3',
    description:
      'the relay delivers a message to the connection that sent it too: it gets the `message` frame besides its `sent` (a StrykerJS survivor)',
  },
  {
    name: 'store-then-check-member',
    breaks: 'CHAT-C3',
    description:
      "a send is stored before the sender's membership is checked: the send is refused not_member, but the message is in the channel anyway",
  },
  {
    name: 'synced-max-first',
    breaks: 'CHAT-C3',
    description: "synced names a channel's lowest message ID as its maxMessageId",
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
    name: 'sent-before-relay',
    breaks: 'CHAT-I1',
    description:
      "`sent` goes out as soon as the store has the message, before this server's relay reader passed it: an earlier message of another sender can reach the sender's connection after the `sent` of a later ID",
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
    name: 'added-member-not-indexed',
    breaks: 'CHAT-C2',
    needs: ['SDGRADE_REDIS_URL'],
    description:
      "the Redis store's addMember forgets the user's channel index: a member added later never gets the group by sync",
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
    name: 'cursor-per-user',
    breaks: 'CHAT-I5',
    description: "the ack cursor is kept per user, not per device: one device's ack moves where another's sync starts",
  },
  {
    name: 'sync-zero-cursor-uses-ack',
    breaks: 'CHAT-I5',
    description:
      "sync reads a cursor with || instead of ??: an explicit curMaxMessageId 0 falls back to the device's ack",
  },
  {
    name: 'offline-on-disconnect',
    breaks: 'CHAT-I6',
    description: 'a user is offline the moment their last connection closes (no heartbeat timeout): status flaps',
  },
  {
    name: 'heartbeats-ignored',
    breaks: 'CHAT-I6',
    description:
      'heartbeat frames are dropped (only connecting counts as a beat): a user who stays connected goes offline after the presence timeout (from a StrykerJS mutant that CHAT-I6 passed)',
  },
  {
    name: 'push-always',
    breaks: 'CHAT-I7',
    description: 'every member gets a push for every message, connected or not',
  },
  {
    name: 'push-subscription-kept',
    breaks: 'CHAT-I7',
    description: "a device's second push subscription is ignored: pushes keep going to the endpoint it replaced",
  },
  {
    name: 'push-on-duplicate',
    breaks: 'CHAT-I7',
    description: 'a resend of a clientMessageId (a duplicate, nothing stored) pushes the message again',
  },
  {
    name: 'push-preview-long',
    breaks: 'CHAT-I7',
    description: 'the push preview keeps 101 characters of a long text (PushNotification allows 100)',
  },
  { name: 'group-limit-101', breaks: 'CHAT-I8', description: 'a group takes a 101st member' },
  {
    name: 'surrogate-range-off-by-one',
    breaks: 'CHAT-I8',
    description:
      'the character count misses the first high surrogate (0xD800), so U+10000..U+103FF count as two characters (a Stryker survivor)',
  },
  {
    name: 'surrogate-low-bound-dropped',
    breaks: 'CHAT-I8',
    description:
      'the character count drops the lower bound of the high-surrogate range: an ordinary character followed by a lone low surrogate counts as one character, not two (a Stryker survivor)',
  },
  {
    name: 'full-group-refuses-member',
    breaks: 'CHAT-I8',
    description:
      'addMember checks the 100-member limit before "already a member": re-adding a member of a full group is 409 group_full, not 200',
  },
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
    name: 'outage-as-500',
    breaks: 'CHAT-F5',
    needs: ['SDGRADE_REDIS_URL'],
    description: 'an API server answers 500 instead of 503 unavailable while the store cannot be reached',
  },
  {
    name: 'stop-without-1001',
    breaks: 'CHAT-F6',
    description: 'a stopping chat server drops its sockets without a close frame (no 1001)',
  },
  {
    name: 'restart-keeps-connections',
    breaks: 'CHAT-F6',
    description:
      'a chat server started again keeps the connections of its previous life in the store: members whose devices died with it count as connected and get no pushes',
  },
  {
    name: 'relay-keep-30ms',
    breaks: 'CHAT-F7',
    // The embedded store's relay log: graded on SQLite even where Redis is configured (CI).
    env: { REDIS_URL: '' },
    description:
      'the embedded relay log keeps entries 30 ms instead of 30 s (a unit slip): a chat server that stalls misses what the relay carried meanwhile',
  },
  {
    name: 'ack-before-store',
    breaks: 'CHAT-F5',
    needs: ['SDGRADE_REDIS_URL'],
    description:
      'a chat server answers `sent` with the ID it expects before the store has the message: when the store is down, acknowledged messages are lost',
  },
  // Round 5 of the blind bugs (fixtures/blind-bugs/13-chat-system): each keeps one caught.
  {
    name: 'push-subscription-per-user',
    breaks: 'CHAT-I7',
    // The embedded store's setPush: graded on SQLite even where Redis is configured (CI).
    env: { REDIS_URL: '' },
    description:
      "a device's push subscription replaces the user's other devices' subscriptions too: a user with two devices gets pushes on the last one subscribed only",
  },
  {
    name: 'dedup-recent-50',
    breaks: 'CHAT-I3',
    // The embedded store's dedup look-up: graded on SQLite even where Redis is configured (CI).
    env: { REDIS_URL: '' },
    description:
      "the resend's earlier copy is looked for among the channel's latest 50 messages only: a resend after 50 others stores a second message",
  },
  {
    name: 'sync-any-named-channel',
    breaks: 'CHAT-I5',
    description:
      'sync also serves a channel the device names a cursor for when the user is not a member: a non-member reads its messages',
  },
  {
    name: 'sync-one-page',
    breaks: 'CHAT-I5',
    description:
      "sync reads one page of 1,000 messages per channel: a device more than 1,000 behind misses the rest (synced names the channel's maximum)",
  },
  {
    name: 'direct-check-then-create',
    breaks: 'CHAT-C2',
    needs: ['SDGRADE_REDIS_URL'],
    description:
      'Redis: the one-on-one channel is looked up, then created and its pair key written unconditionally: concurrent first requests make several channels',
  },
  {
    name: 'push-skips-dead-server-members',
    breaks: 'CHAT-F6',
    description:
      'a connection recorded on a chat server that died (killed, not restarted) still counts as open: its member gets no push until the server returns',
  },
  {
    name: 'friends-one-way',
    breaks: 'CHAT-I6',
    description:
      "addFriend stores only the asker's side: the asker never gets the friend's presence changes (blind bug r7-friends-one-way)",
  },
  {
    name: 'presence-since-on-beat',
    breaks: 'CHAT-I6',
    description:
      "every heartbeat moves presence `since` to the beat's time: since says when the user last beat, not when the status changed (blind bug r7-presence-since-on-beat)",
  },
  {
    name: 'sync-unnamed-from-zero',
    breaks: 'CHAT-I5',
    description:
      "a sync that names a cursor for some channel starts every channel it does not name at 0, not after the device's ack (blind bug r7-sync-unnamed-from-zero)",
  },
  {
    name: 'cursor-device-only',
    breaks: 'CHAT-I5',
    needs: ['SDGRADE_REDIS_URL'],
    description:
      "Redis: the ack cursor is keyed by the device ID alone, so another user's device of the same name moves it (blind bug r7-redis-cursor-device-scope)",
  },
  {
    name: 'dropped-connection-kept',
    breaks: 'CHAT-I7',
    description:
      'a connection that ends without a 1000/1001 close (a dropped network) stays recorded as open while its chat server lives: its member gets no pushes (blind bug r7-close-only-when-clean)',
  },
  {
    name: 'sync-live-not-held',
    breaks: 'CHAT-I2',
    // On SQLite a sync is answered within one turn of the event loop (the store answers synchronously), so no live
    // frame can arrive during it, held or not: it shows where the store's answers are I/O.
    needs: ['SDGRADE_REDIS_URL'],
    description:
      'live messages are not held while a sync is answered: one stored after the sync began goes out before its `synced`, which names a lower greatest ID (blind bug r7-sync-live-not-held; needs Redis to show)',
  },
  {
    name: 'relay-same-ms',
    breaks: 'CHAT-I2',
    needs: ['SDGRADE_REDIS_URL'],
    description:
      'Redis: relay positions compared by their millisecond only, so a `sent` can pass an earlier message of the channel stored in the same millisecond (blind bug r7-redis-relay-same-ms)',
  },
] as const satisfies readonly Mutant[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
