// The notification servers: a member with no open connection gets one push per message on each device that has a
// push subscription (a Web Push-style endpoint; the harness's fake provider in tests). Fire and forget with a
// deadline: a provider that fails does not hold up the chat.
import type { MessageRecord } from './store.ts';

export async function pushMessage(
  subscriptions: { deviceId: string; endpoint: string }[],
  userId: string,
  m: MessageRecord,
  log: (msg: string) => void,
  /** PushNotification's preview is at most 100 characters (another value only for the push-preview-long mutant). */
  previewMax = 100,
): Promise<void> {
  await Promise.all(
    subscriptions.map(async (s) => {
      const body = {
        userId,
        deviceId: s.deviceId,
        channelId: m.channelId,
        messageId: m.messageId,
        senderId: m.senderId,
        preview: m.text.slice(0, previewMax),
      };
      try {
        const res = await fetch(s.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        if (!res.ok) log(`push to ${s.endpoint} answered ${res.status}`);
      } catch (e) {
        log(`push to ${s.endpoint} failed: ${(e as Error).message}`);
      }
    }),
  );
}
