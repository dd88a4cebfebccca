// Checks every chapter makes the same way: readiness answers with the shared Health body, an unknown path is a 404
// problem, and a method the spec does not declare on a known path is a 405 problem with Allow.
import type { CheckContext } from './check-context.ts';

export async function readinessAndUnknownRoutes(
  ctx: CheckContext,
  undeclared: readonly { method: string; path: string }[],
): Promise<void> {
  const r = await ctx.http.send({ method: 'GET', path: '/health/ready' });
  ctx.expectStatus(r, 200);
  ctx.expect(
    (r.body as { status?: string } | undefined)?.status === 'ready',
    'readiness body is not {status: ready}',
    r,
  );
  for (const probe of [
    { method: 'GET', path: '/no/such/path', want: 404 },
    ...undeclared.map((u) => ({ ...u, want: 405 })),
  ]) {
    const x = await ctx.http.send({ method: probe.method, path: probe.path, validRequest: false });
    ctx.expect(
      x.status === probe.want,
      `${probe.method} ${probe.path} got ${x.status ?? x.error}, not ${probe.want}`,
      x,
    );
    if (probe.want === 405)
      ctx.expect(x.headers.allow, `the 405 for ${probe.method} ${probe.path} has no Allow header`, x);
    ctx.expect(
      (x.headers['content-type'] ?? '').startsWith('application/problem+json'),
      `${probe.method} ${probe.path} did not answer with a problem body`,
      x,
    );
  }
}
