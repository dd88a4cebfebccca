// What nodes pass each other through the store's relay log: a frame for every connection of some users. Nodes never
// call each other directly (no internal HTTP routes): a chat server writes a relay entry with the message it stores,
// and every chat server tails the log and delivers the entries to its own connections.
import type { MessageRecord } from './store.ts';

export interface ServerFrame {
  type: string;
  [key: string]: unknown;
}

/** A frame for every local connection of these users, except the connection that caused it. */
export interface Delivery {
  frame: ServerFrame;
  userIds: string[];
  exceptConn?: string;
  /** The chat server that wrote it (only the no-cross-server-relay mutant looks). */
  origin?: string;
}

export const messageFrame = (m: MessageRecord): ServerFrame => ({ type: 'message', ...m });

export const presenceFrame = (userId: string, status: 'online' | 'offline', since: string): ServerFrame => ({
  type: 'presence',
  userId,
  status,
  since,
});
