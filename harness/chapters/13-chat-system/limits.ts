// CHAT-I8: limits - a 101st group member is 409 group_full; a text over 100,000 characters is message_too_long.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { chatCheck, MAX_MEMBERS, MAX_TEXT } from './api.ts';
import { runs } from './converge.ts';

export const limits = chatCheck(async (w) => {
  const ctx: CheckContext = w.ctx;
  const owner = await w.user();
  const others = [];
  for (let i = 0; i < MAX_MEMBERS; i++) others.push(await w.user([]));
  const create = (members: string[]) =>
    w.x(w.http.POST('/api/v1/channels', { body: { type: 'group', name: 'full', members }, ...w.auth(owner.token) }));
  const over = await create(others.map((u) => u.userId));
  ctx.expectStatus(over, 409, 'group_full');
  const full = await create(others.slice(0, MAX_MEMBERS - 1).map((u) => u.userId));
  ctx.expectStatus(full, 201);
  const channelId = (full.body as { channelId: string; members: string[] }).channelId;
  ctx.expect(
    (full.body as { members: string[] }).members.length === MAX_MEMBERS,
    'the full group does not list 100 members',
    full,
  );
  const extra = await w.x(
    w.http.POST('/api/v1/channels/{channelId}/members', {
      params: { path: { channelId } },
      body: { userId: others[MAX_MEMBERS - 1]!.userId },
      ...w.auth(owner.token),
    }),
  );
  ctx.expectStatus(extra, 409, 'group_full');
  await owner.device.connect();
  await ctx.property(
    fc.integer({ min: 1, max: 5000 }),
    async (overBy) => {
      const long = await owner.device.send(channelId, 'x'.repeat(MAX_TEXT + overBy));
      ctx.expect(
        long.answer?.type === 'error' &&
          long.answer.code === 'message_too_long' &&
          long.answer.ref === long.clientMessageId,
        `a text of ${MAX_TEXT + overBy} characters answered ${JSON.stringify(long.answer).slice(0, 300)}, not error message_too_long`,
      );
    },
    runs(ctx, 4),
  );
  const exact = await owner.device.send(channelId, 'y'.repeat(MAX_TEXT));
  ctx.expect(
    exact.answer?.type === 'sent',
    `a text of exactly ${MAX_TEXT} characters answered ${JSON.stringify(exact.answer).slice(0, 300)}`,
  );
});
