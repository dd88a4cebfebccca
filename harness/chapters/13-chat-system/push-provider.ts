// The notification provider fake for CHAT-I7 (harness/fakes pattern: msw handlers on a real port): it takes the
// pushes the system sends to a device's endpoint, checks each against PushNotification, and keeps them.
import { HttpResponse, http } from 'msw';
import { startFakeService } from '../../fakes/fake-service.ts';
import { FrameValidator } from './frames.ts';

export interface Push {
  userId: string;
  deviceId: string;
  channelId: string;
  messageId: number;
  senderId: string;
  preview: string;
}

export async function startPushProvider(seed: number) {
  const v = new FrameValidator();
  const pushes: { path: string; push: Push }[] = [];
  const violations: string[] = [];
  const handlers = [
    http.post('*/push/:key', async ({ request, params }) => {
      const body = (await request.json().catch(() => null)) as Push | null;
      const bad = v.check('PushNotification', body);
      if (bad.length) violations.push(bad.join('; '));
      if (body) pushes.push({ path: String(params.key), push: body });
      return HttpResponse.json({ accepted: true }, { status: 201 });
    }),
  ];
  const fake = await startFakeService({ name: 'push', handlers, seed });
  return {
    url: fake.url.replace(/\/$/, ''),
    violations,
    /** Pushes that reached the endpoint registered for this user. */
    pushesFor: (userId: string) => pushes.filter((p) => p.path === userId).map((p) => p.push),
    count: () => pushes.length,
    stop: () => fake.stop(),
  };
}
