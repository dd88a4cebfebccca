// The chapter's operations through the client typed from the spec (openapi-fetch), each returning the validated
// exchange, plus the spec's bit layout decoded here, independently of any implementation.

import type { components, paths } from '../../../specs/08-unique-id-generator/generated/openapi.d.ts';
import type { CheckContext } from '../../core/check-context.ts';
import { type Exchange, exchangeFrom, type HttpClient } from '../../core/http-client.ts';

export type Node = components['schemas']['Node'];
export type DecodedId = components['schemas']['DecodedId'];

/** The spec's layout (openapi.yaml, info.description): Twitter's epoch, 41 | 5 | 5 | 12 bits. */
export const EPOCH_MS = 1_288_834_974_657;
export const MAX_ID = (1n << 63n) - 1n;
/** The spec's clock-skew bound between nodes. */
export const SKEW_MS = 10;
export const DECIMAL_ID = /^(0|[1-9][0-9]{0,18})$/;

export interface Layout {
  unixMs: number;
  datacenterId: number;
  machineId: number;
  sequence: number;
}

/** The ID as a 63-bit integer, or null when it is not one (not decimal, or the sign bit set). */
export function asId(id: unknown): bigint | null {
  if (typeof id !== 'string' || !DECIMAL_ID.test(id)) return null;
  const v = BigInt(id);
  return v <= MAX_ID ? v : null;
}

export function layoutOf(v: bigint): Layout {
  return {
    unixMs: Number(v >> 22n) + EPOCH_MS,
    datacenterId: Number((v >> 17n) & 31n),
    machineId: Number((v >> 12n) & 31n),
    sequence: Number(v & 4095n),
  };
}

export interface Issued {
  x: Exchange;
  /** The IDs as given (strings), empty unless 200. */
  ids: string[];
  node: Node | null;
  /** Client-side time before the request was sent and after the answer came. */
  sentAt: number;
  receivedAt: number;
}

export function idApi(ctx: CheckContext, http: HttpClient = ctx.http) {
  const client = http.typed<paths>();
  const issued = async (p: () => Promise<{ response: Response }>, many: boolean): Promise<Issued> => {
    const sentAt = Date.now();
    const x = await exchangeFrom(p());
    const receivedAt = Date.now();
    const body = x.status === 200 ? (x.body as { id?: unknown; ids?: unknown; node?: Node }) : undefined;
    const raw = many ? body?.ids : body ? [body.id] : [];
    const ids = Array.isArray(raw) ? raw.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : [];
    return { x, ids, node: body?.node ?? null, sentAt, receivedAt };
  };
  return {
    one: () => issued(() => client.POST('/api/v1/ids'), false),
    batch: (count: number) => issued(() => client.POST('/api/v1/ids/batch', { params: { query: { count } } }), true),
    async decode(id: string): Promise<{ x: Exchange; decoded: DecodedId | null }> {
      const x = await exchangeFrom(client.GET('/api/v1/ids/{id}', { params: { path: { id } } }));
      return { x, decoded: x.status === 200 ? (x.body as DecodedId) : null };
    },
  };
}

export type IdApi = ReturnType<typeof idApi>;

/** One API per node of the target (a URL target has one). */
export function nodeApis(ctx: CheckContext): { name: string; api: IdApi }[] {
  return ctx.target.nodes.map((name) => ({ name, api: idApi(ctx, ctx.http.withBaseUrl(ctx.target.nodeUrl(name))) }));
}

/** Fails unless the answer is a 200 whose IDs are all 63-bit decimal integers; returns them as bigints. */
export function expectIds(ctx: CheckContext, r: Issued, what: string): bigint[] {
  ctx.expect(r.x.status === 200, `${what}: answered ${r.x.status ?? r.x.error}`, r.x);
  return r.ids.map((id) => {
    const v = asId(id);
    ctx.expect(v !== null, `${what}: ${id} is not a decimal integer from 0 to 2^63 - 1`, r.x);
    return v;
  });
}

export function strictlyIncreasing(ids: bigint[]): number {
  for (let i = 1; i < ids.length; i++) if (ids[i]! <= ids[i - 1]!) return i;
  return -1;
}

// Stopped with the check at its time limit (see core/check-scope.ts).
export { sleep } from '../../core/check-scope.ts';
