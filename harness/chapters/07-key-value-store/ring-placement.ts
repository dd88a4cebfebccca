// The ring as a client sees it (openapi.yaml: Member.tokens, LocalReplica.replicas): a key's position is the first
// 48 bits of SHA-256 of its UTF-8 bytes, big-endian, in the space of the members' tokens; a token owns the arc from
// the previous token up to itself. From the cluster view alone a client computes each member's share of the space and
// any key's preference list, so the checks compare what a node says with what its own view implies.
import { createHash } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import type { Member } from './api.ts';

/** The hash space of positions and tokens (openapi.yaml: 0 to 2^48 - 1). */
export const HASH_SPACE = 2 ** 48;

/** The key's position on the ring: SHA-256 of its UTF-8 bytes, first 48 bits, big-endian. */
export function keyPosition(key: string): number {
  return createHash('sha256').update(key, 'utf8').digest().readUIntBE(0, 6);
}

/** Every token of every member, ascending; equal tokens in member-name order (code units, as the spec says). */
function ringOf(members: readonly Member[]): (readonly [number, string])[] {
  return members
    .flatMap((m) => m.tokens.map((t) => [t, m.name] as const))
    .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

/**
 * The key's preference list: from the first token at or after its position (wrapping past the top), clockwise, the
 * first n distinct members.
 */
export function preferenceList(members: readonly Member[], key: string, n: number): string[] {
  const ring = ringOf(members);
  if (ring.length === 0) return [];
  const at = keyPosition(key);
  let start = ring.findIndex(([t]) => t >= at);
  if (start < 0) start = 0;
  const out: string[] = [];
  for (let i = 0; i < ring.length && out.length < n; i++) {
    const name = ring[(start + i) % ring.length]![1];
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * Each member's ringShare is the share of the hash space its tokens own: a position owns the arc from the previous
 * position (exclusive) up to itself, where a key's hash falls clockwise.
 * Blind bug ring-share-by-token-count (round 8): the share of virtual nodes (1/3 each), not of the hash space.
 */
export function sharesFromTokens(ctx: CheckContext, members: Member[], x: Exchange): void {
  const all = ringOf(members);
  if (all.length < 2) return;
  const own = new Map<string, number>();
  all.forEach(([t, name], i) => {
    const prev = i === 0 ? all.at(-1)![0] - HASH_SPACE : all[i - 1]![0];
    own.set(name, (own.get(name) ?? 0) + (t - prev) / HASH_SPACE);
  });
  const off = members.filter((m) => Math.abs((own.get(m.name) ?? 0) - m.ringShare) > 0.002);
  ctx.expect(
    off.length === 0,
    "ringShare is not the share of the hash space (2^48) the member's tokens own: " +
      off
        .map((m) => `${m.name} says ${m.ringShare.toFixed(4)}, its tokens own ${own.get(m.name)!.toFixed(4)}`)
        .join('; '),
    x,
  );
}
