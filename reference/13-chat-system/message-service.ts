// The message service, run by the chat server that holds the sender's connection (the book's chat server 1): check
// membership, store the message with the channel's next ID and its relay entry in one step, then push to members with
// no connection. And sync: what a device has not seen, from its cur_max_message_id (or its last ack). Everything it
// reads and writes is in the shared store, so any chat server can do it for any user.
import type { MutantName } from './mutants.ts';
import { pushMessage } from './push.ts';
import type { ChatStore, MessageRecord } from './store.ts';

export interface SendInput {
  channelId: string;
  senderId: string;
  clientMessageId: string;
  text: string;
  /** The sending connection (it gets `sent`, not the relayed `message`) and its chat server. */
  connId: string;
  server: string;
  /** Only the per-server-sequence mutant: the chat server picked the ID itself. */
  forcedId?: number;
}

export type SendOutcome =
  | { message: MessageRecord; duplicate: boolean; relayAt?: string }
  | { error: 'not_found' | 'not_member'; detail: string };

export interface MessageServiceOptions {
  store: ChatStore;
  /** A chat server not seen for this long holds no live connection (its users get pushes). */
  serverTtlMs: number;
  mutant?: MutantName | undefined;
  log: (msg: string) => void;
}

export async function storeMessage(o: MessageServiceOptions, m: SendInput): Promise<SendOutcome> {
  const { store, mutant } = o;
  const c = await store.channel(m.channelId);
  if (!c) return { error: 'not_found', detail: `no channel ${m.channelId}` };
  const notMember = { error: 'not_member', detail: `you are not a member of ${m.channelId}` } as const;
  if (!c.members.includes(m.senderId) && mutant !== 'store-then-check-member') return notMember;
  const r = await store.append(
    {
      channelId: m.channelId,
      senderId: m.senderId,
      clientMessageId: m.clientMessageId,
      text: m.text,
      createdAt: new Date().toISOString(),
    },
    {
      // MUTANT no-dedup / dedup-per-connection: the store does not look for an earlier copy.
      dedup: mutant !== 'no-dedup' && mutant !== 'dedup-per-connection',
      // MUTANT dedup-ignores-sender: another member's message with the same client ID counts as a resend.
      ...(mutant === 'dedup-ignores-sender' ? { dedupAnySender: true } : {}),
      ...(m.forcedId !== undefined ? { forcedId: m.forcedId } : {}),
      relay: { userIds: c.members, exceptConn: m.connId, origin: m.server },
    },
  );
  // MUTANT store-then-check-member: membership is checked after the append, so a refused send is stored anyway.
  if (!c.members.includes(m.senderId)) return notMember;
  // MUTANT push-on-duplicate: a resend (nothing stored) pushes the message again.
  if (!r.duplicate || mutant === 'push-on-duplicate') void pushToAbsent(o, r.message, c.members);
  return r;
}

/** One push per message per subscribed device of each member with no open connection (not the sender). */
async function pushToAbsent(o: MessageServiceOptions, message: MessageRecord, members: string[]): Promise<void> {
  try {
    const others = members.filter((u) => u !== message.senderId);
    // MUTANT push-skips-dead-server-members: a connection recorded on a chat server that died still counts as open.
    const seenSince = o.mutant === 'push-skips-dead-server-members' ? 0 : Date.now() - o.serverTtlMs;
    const connected = await o.store.connectedUsers(others, seenSince);
    for (const member of others) {
      // MUTANT push-always: push whether or not the member is connected.
      if (connected.has(member) && o.mutant !== 'push-always') continue;
      // MUTANT push-preview-long: the preview keeps 101 characters (the spec's maxLength is 100).
      const previewMax = o.mutant === 'push-preview-long' ? 101 : undefined;
      void o.store.pushSubscriptions(member).then((subs) => pushMessage(subs, member, message, o.log, previewMax));
    }
  } catch (e) {
    o.log(`pushes for message ${message.messageId} of ${message.channelId} failed: ${(e as Error).message}`);
  }
}

export interface SyncResult {
  messages: MessageRecord[];
  channels: { channelId: string; maxMessageId: number }[];
}

/**
 * Every message of the user's channels after the given cursor, or after the device's last ack, up to each channel's
 * greatest message ID when the sync began (read first, and named in `synced`): what is stored meanwhile comes live,
 * after `synced`, so the answer has a well-defined end.
 */
export async function syncMessages(
  store: ChatStore,
  mutant: MutantName | undefined,
  who: { userId: string; deviceId: string },
  cursors: { channelId: string; curMaxMessageId: number }[],
): Promise<SyncResult> {
  const given = new Map(cursors.map((c) => [c.channelId, c.curMaxMessageId]));
  const out: SyncResult = { messages: [], channels: [] };
  const channelIds = await store.channelsOf(who.userId);
  // MUTANT sync-any-named-channel: a channel named in the cursors is synced too, member or not.
  if (mutant === 'sync-any-named-channel')
    for (const id of given.keys()) if (!channelIds.includes(id)) channelIds.push(id);
  const upTo = new Map<string, number>();
  for (const channelId of channelIds) upTo.set(channelId, await store.maxMessageId(channelId));
  for (const channelId of channelIds) {
    const max = upTo.get(channelId)!;
    // MUTANT cursor-per-user: the ack cursor is the user's, shared by all devices.
    const device = mutant === 'cursor-per-user' ? '*' : who.deviceId;
    let after = given.get(channelId) ?? (await store.cursor(who.userId, device, channelId));
    // MUTANT sync-unnamed-from-zero: a sync that names some cursors starts every channel it does not name at 0.
    if (mutant === 'sync-unnamed-from-zero' && given.size && !given.has(channelId)) after = 0;
    // MUTANT sync-zero-cursor-uses-ack: `||` - a cursor of 0 in the sync falls back to the device's ack.
    if (mutant === 'sync-zero-cursor-uses-ack')
      after = given.get(channelId) || (await store.cursor(who.userId, device, channelId));
    // MUTANT sync-ignores-cursor: every sync starts from the beginning of the channel.
    if (mutant === 'sync-ignores-cursor') after = 0;
    while (after < max) {
      const page = (await store.messagesAfter(channelId, after, 1000)).filter((m) => m.messageId <= max);
      // MUTANT sync-skips-own: "you already have what you sent" - wrong for the user's other devices.
      out.messages.push(...(mutant === 'sync-skips-own' ? page.filter((m) => m.senderId !== who.userId) : page));
      // MUTANT sync-one-page: one page of 1,000 per channel; a device further behind never gets the rest.
      if (page.length < 1000 || mutant === 'sync-one-page') break;
      after = page[page.length - 1]!.messageId;
    }
    // MUTANT synced-max-first: the lowest message ID of the channel, not the highest.
    const maxMessageId =
      mutant === 'synced-max-first' ? ((await store.messagesAfter(channelId, 0, 1))[0]?.messageId ?? 0) : max;
    out.channels.push({ channelId, maxMessageId });
  }
  return out;
}
