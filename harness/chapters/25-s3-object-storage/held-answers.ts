// An S3 call's outcome kept as a value (SOS-F5 sends requests while others are held, and judges them together):
// what it answered, or the S3 error it answered. The harness's own findings (an answer off the spec) still throw.

export type Settled = { ok: object; error?: undefined } | { ok?: undefined; error: { name: string; status?: number } };

export async function settled(call: Promise<unknown>): Promise<Settled> {
  try {
    return { ok: ((await call) ?? {}) as object };
  } catch (e) {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; exchange?: unknown };
    if (err.exchange) throw e;
    return { error: { name: err.name ?? 'Error', status: err.$metadata?.httpStatusCode } };
  }
}

/** The success's status ("204"), or the error's status and S3 code ("404 NoSuchUpload"), for messages and comparisons. */
export function upshot(x: Settled): string {
  if (x.ok) return String((x.ok as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 'success');
  return `${x.error.status} ${x.error.name}`;
}
