// SOS-C5: SigV4 authentication - unsigned, unknown key, wrong secret, skewed clock, anything changed after signing -
// through the AWS SDK with the request tampered with after signing; nothing refused is stored; an Authorization
// header without spaces after its commas is accepted.
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { credentialsOf, freshBucket, type S3, type SdkRequest, s3Of, sdkError, type Tamper } from './s3-client.ts';

export async function sigv4Conformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const bucket = await freshBucket(ctx, s3, 'c5');
  const creds = credentialsOf(ctx);
  const other = (accessKeyId: string, secretAccessKey: string) =>
    s3Of(ctx, { credentials: { accessKeyId, secretAccessKey } });
  const nextSecond = (d: string) => String((Number(d) + 1) % 10);
  const tries: { what: string; code: string; status: number; key: string; via?: S3; forge?: Tamper }[] = [
    {
      what: 'no Authorization header',
      code: 'AccessDenied',
      status: 403,
      key: 'unsigned',
      forge: (r) => {
        delete r.headers['authorization'];
      },
    },
    {
      what: 'an unknown access key',
      code: 'InvalidAccessKeyId',
      status: 403,
      key: 'unknown-key',
      via: other('AKIDUNKNOWN000000000', creds.secretAccessKey),
    },
    {
      what: 'a wrong secret',
      code: 'SignatureDoesNotMatch',
      status: 403,
      key: 'wrong-secret',
      via: other(creds.accessKeyId, `${creds.secretAccessKey}x`),
    },
    {
      what: 'a request signed 20 minutes in the past (S3 allows 15)',
      code: 'RequestTimeTooSkewed',
      status: 403,
      key: 'skewed',
      via: s3Of(ctx, { clockOffsetMs: -20 * 60 * 1000 }),
    },
    {
      what: 'a request signed 20 minutes in the future',
      code: 'RequestTimeTooSkewed',
      status: 403,
      key: 'skewed-future',
      via: s3Of(ctx, { clockOffsetMs: 20 * 60 * 1000 }),
    },
    {
      what: 'the key changed after signing',
      code: 'SignatureDoesNotMatch',
      status: 403,
      key: 'changed-path',
      forge: (r) => {
        r.path = r.path.replace('changed-path', 'changed-pbth');
      },
    },
    {
      what: 'a signed header changed after signing',
      code: 'SignatureDoesNotMatch',
      status: 403,
      key: 'changed-header',
      forge: (r) => {
        r.headers['x-amz-date'] = (r.headers['x-amz-date'] ?? '').replace(/\d(?=Z$)/, nextSecond);
      },
    },
    {
      what: 'a body other than the one signed',
      code: 'XAmzContentSHA256Mismatch',
      status: 400,
      key: 'changed-body',
      forge: (r) => {
        // As long as the signed one (Content-Length is signed too): only the bytes differ.
        r.body = Buffer.from('SIGNED BODY');
      },
    },
  ];
  function put(key: string) {
    // Content-MD5 and the CRC would also catch a changed body; only the signed SHA-256 is under test here.
    return new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('signed body') });
  }
  for (const t of tries) {
    const via = t.via ?? s3;
    via.handler.afterSigning = t.forge;
    try {
      const e = await sdkError(via.client.send(put(t.key)));
      ctx.expect(e, `${t.what}: the PUT succeeded; expected ${t.status} ${t.code}`);
      ctx.expect(
        e.status === t.status && e.name === t.code,
        `${t.what}: got ${e.status} ${e.name}; expected ${t.status} ${t.code}`,
      );
    } finally {
      via.handler.afterSigning = undefined;
    }
  }
  // A body that went missing: the signed x-amz-content-sha256 names bytes, none arrived (Content-Length 0, signed).
  const emptied = new PutObjectCommand({ Bucket: bucket, Key: 'emptied-body', Body: Buffer.alloc(0) });
  emptied.middlewareStack.add(
    (next) => async (args) => {
      const r = args.request as SdkRequest;
      r.headers['x-amz-content-sha256'] = createHash('sha256').update('signed body').digest('hex');
      return next(args);
    },
    { step: 'build', name: 'declareOtherBody' },
  );
  const e = await sdkError(s3.client.send(emptied));
  ctx.expect(
    e?.status === 400 && e.name === 'XAmzContentSHA256Mismatch',
    `an empty body signed as other bytes: got ${e ? `${e.status} ${e.name}` : '200'}; expected 400 XAmzContentSHA256Mismatch`,
  );
  // AWS documents the Authorization header's parameters separated by "," alone; the SDK puts a space after each.
  s3.handler.afterSigning = (r) => {
    r.headers['authorization'] = (r.headers['authorization'] ?? '').replace(/,\s+/g, ',');
  };
  try {
    const e = await sdkError(s3.client.send(put('no-spaces')));
    ctx.expect(!e, `an Authorization header without spaces after its commas: got ${e?.status} ${e?.name}, not 200`);
  } finally {
    s3.handler.afterSigning = undefined;
  }
  // Nothing refused was stored.
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  const keys = (listed.Contents ?? []).map((o) => o.Key);
  ctx.expect(
    keys.filter((k) => k !== 'no-spaces').length === 0,
    `refused PUTs stored ${JSON.stringify(keys.filter((k) => k !== 'no-spaces'))}`,
  );
}
