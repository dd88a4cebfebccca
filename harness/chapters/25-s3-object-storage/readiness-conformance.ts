// SOS-C1: readiness, undeclared methods (405 before authentication) and a version-1 listing (400), through the AWS
// SDK (every exchange validated against the spec by the recording handler) and raw HTTP where the SDK cannot say it.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { freshBucket, type SdkRequest, s3Of } from './s3-client.ts';
import { expectError } from './s3-expect.ts';

export async function readinessConformance(ctx: CheckContext): Promise<void> {
  const r = await ctx.http.send({ method: 'GET', path: '/health/ready' });
  ctx.expectStatus(r, 200);
  ctx.expect(
    (r.body as { status?: string } | undefined)?.status === 'ready',
    'readiness body is not {status: ready}',
    r,
  );
  // Undeclared methods: 405 MethodNotAllowed with Allow, before authentication (the spec's rule on every path).
  for (const probe of [
    { method: 'PATCH', path: '/', allow: ['GET'] },
    { method: 'POST', path: '/some-bucket', allow: ['PUT', 'HEAD', 'DELETE', 'GET'] },
    { method: 'PATCH', path: '/some-bucket/a/b.txt', allow: ['PUT', 'GET', 'HEAD', 'DELETE', 'POST'] },
  ]) {
    const x = await ctx.http.send({ method: probe.method, path: probe.path, validRequest: false });
    ctx.expect(x.status === 405, `${probe.method} ${probe.path} got ${x.status ?? x.error}, not 405`, x);
    const allow = (x.headers.allow ?? '').split(',').map((s) => s.trim());
    ctx.expect(
      probe.allow.every((m) => allow.includes(m)),
      `the 405 for ${probe.method} ${probe.path} has Allow "${x.headers.allow}", not ${probe.allow.join(', ')}`,
      x,
    );
    ctx.expect(/<Code>MethodNotAllowed<\/Code>/.test(x.bodyText), 'the 405 body is not an S3 MethodNotAllowed', x);
  }
  // A listing without list-type=2 (version 1, which the spec does not offer): 400, signed, not a 5xx.
  const s3 = s3Of(ctx);
  const bucket = await freshBucket(ctx, s3, 'c1');
  const list = new ListObjectsV2Command({ Bucket: bucket });
  list.middlewareStack.add(
    (next) => async (args) => {
      delete (args.request as SdkRequest).query['list-type'];
      return next(args);
    },
    { step: 'build', name: 'dropListType' },
  );
  await expectError(ctx, s3.client.send(list), 'InvalidArgument', 400, 'listing without list-type=2');
}
