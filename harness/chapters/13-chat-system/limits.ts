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
  // Adding a user who already is a member changes nothing, so a full group answers 200 (the limit is not reached).
  const again = await w.x(
    w.http.POST('/api/v1/channels/{channelId}/members', {
      params: { path: { channelId } },
      body: { userId: others[0]!.userId },
      ...w.auth(owner.token),
    }),
  );
  ctx.expectStatus(again, 200);
  ctx.expect(
    (again.body as { members: string[] }).members.length === MAX_MEMBERS,
    'adding a member again changed the full group',
    again,
  );
  await owner.device.connect();
  const refused: string[] = [];
  const tooLong = async (text: string, what: string) => {
    const long = await owner.device.send(channelId, text);
    ctx.expect(
      long.answer?.type === 'error' &&
        long.answer.code === 'message_too_long' &&
        long.answer.ref === long.clientMessageId,
      `a text of ${what} answered ${JSON.stringify(long.answer).slice(0, 300)}, not error message_too_long`,
    );
    refused.push(long.clientMessageId);
  };
  await ctx.property(
    fc.integer({ min: 1, max: 5000 }),
    (overBy) => tooLong('x'.repeat(MAX_TEXT + overBy), `${MAX_TEXT + overBy} characters`),
    runs(ctx, 4),
  );
  // Characters, not UTF-16 units or bytes: at the limit and one over with astral (non-BMP) characters, each two
  // UTF-16 units and four UTF-8 bytes, and with BMP non-ASCII ones.
  const astral = '\u{1F600}';
  await tooLong(astral.repeat(MAX_TEXT) + 'z', `${MAX_TEXT + 1} characters (${MAX_TEXT} of them U+1F600)`);
  await tooLong(`é${astral}`.repeat(MAX_TEXT / 2) + astral, `${MAX_TEXT + 1} characters, é and U+1F600`);
  // A lone low surrogate (sent as the JSON escape \udc00) is a character of its own, as maxLength counts: after an
  // ordinary character it does not make a pair with it.
  await tooLong(
    'a\udc00'.repeat(MAX_TEXT / 2) + 'a',
    `${MAX_TEXT + 1} characters, "a" and a lone low surrogate (U+DC00) in turn`,
  );
  const exactly = [
    { text: 'y'.repeat(MAX_TEXT), what: `exactly ${MAX_TEXT} ASCII characters` },
    {
      text: astral.repeat(MAX_TEXT),
      what: `exactly ${MAX_TEXT} characters, all U+1F600 (${2 * MAX_TEXT} UTF-16 units)`,
    },
    { text: `é${astral}`.repeat(MAX_TEXT / 2), what: `exactly ${MAX_TEXT} characters, é and U+1F600 in turn` },
    // The edges of the surrogate ranges: the first and the last code point beyond the BMP.
    {
      text: '\u{10000}\u{10FFFF}'.repeat(MAX_TEXT / 2),
      what: `exactly ${MAX_TEXT} characters, U+10000 and U+10FFFF in turn`,
    },
  ];
  const accepted = new Map<string, string>();
  for (const e of exactly) {
    const r = await owner.device.send(channelId, e.text);
    ctx.expect(r.answer?.type === 'sent', `a text of ${e.what} answered ${JSON.stringify(r.answer).slice(0, 300)}`);
    accepted.set(r.clientMessageId, e.what);
  }
  // What was accepted is stored as sent; what was refused is stored nowhere.
  const history = await w.history(owner, channelId);
  for (const e of exactly) {
    const m = history.find((h) => accepted.get(h.clientMessageId) === e.what);
    ctx.expect(m?.text === e.text, `the text of ${e.what} is ${m ? 'not stored as sent' : 'not in the history'}`);
  }
  const stored = history.filter((m) => refused.includes(m.clientMessageId)).map((m) => m.messageId);
  ctx.expect(!stored.length, `refused texts (message_too_long) are in the history as messages ${stored.join(', ')}`);
  ctx.evidence.refusedTooLong = refused.length;
  ctx.evidence.acceptedAtLimit = accepted.size;
});
