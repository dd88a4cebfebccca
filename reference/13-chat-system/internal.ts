// The internal protocol between the API server (message service, presence, discovery) and the chat servers: JSON
// over HTTP on /internal/*, not part of the public spec. Chat servers reach the API server through ${peers}.
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
}

export interface SendRequest {
  channelId: string;
  senderId: string;
  clientMessageId: string;
  text: string;
  connId: string;
  /** Only the per-server-sequence mutant: the chat server picked the ID itself. */
  forcedId?: number;
}

export type SendResult = { message: MessageRecord; duplicate: boolean } | { error: string; detail: string };

export interface SyncRequest {
  userId: string;
  deviceId: string;
  cursors: { channelId: string; curMaxMessageId: number }[];
}

export interface SyncResult {
  messages: MessageRecord[];
  channels: { channelId: string; maxMessageId: number }[];
}

export const messageFrame = (m: MessageRecord): ServerFrame => ({ type: 'message', ...m });

/** POSTs JSON and returns the parsed answer; throws on a network error or a 5xx. */
export async function postJson<T>(url: string, body: unknown, timeoutMs = 10_000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status >= 500) throw new Error(`${url} answered ${res.status}`);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
