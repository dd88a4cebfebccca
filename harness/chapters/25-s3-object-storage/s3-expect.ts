// What the conformance checks expect of an S3 answer: the ETag of some bytes, and an error by its code and status.
import { createHash } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { sdkError } from './s3-client.ts';

export const md5 = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

export async function expectError(
  ctx: CheckContext,
  call: Promise<unknown>,
  name: string,
  status: number,
  what: string,
) {
  const e = await sdkError(call);
  ctx.expect(e, `${what}: succeeded; expected ${status} ${name}`);
  ctx.expect(e.status === status && e.name === name, `${what}: got ${e.status} ${e.name}; expected ${status} ${name}`);
}
