// SOS-C9: a second real client nobody here wrote. boto3 (Python's AWS SDK, its own SigV4 signer, paginator and
// transfer manager) runs a small pass in a child process (boto3_pass.py) and reports what it saw; this holds each
// observation to the spec. boto3 is one of the pinned Python tools (`npx tsx scripts/get-tools.ts`); without them
// the check is skipped with that reason. The AWS SDK for JavaScript drives every other check.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CheckContext } from '../../core/check-context.ts';
import { findPythonTools } from '../../tools/python-tools.ts';
import { minPartBytes } from './multipart-kit.ts';
import { credentialsOf, uniqueBucket } from './s3-client.ts';

const SCRIPT = fileURLToPath(new URL('./boto3_pass.py', import.meta.url));

interface Digest {
  sha256: string;
  length: number;
}
type Step<T> = { ok: true; value: T } | { ok: false; error: { code: string | null; status: number | null } };
interface Observed {
  boto3: string;
  putBody: Digest & { etag: string };
  rangeWanted: Digest & { first: number; last: number };
  listWanted: { keys: string[]; prefixes: string[] };
  multipartWanted: Digest & { etag: string; parts: [number, number][] };
  transferWanted: Digest;
  [step: string]: unknown;
}

function runPass(ctx: CheckContext, python: string, input: object): Promise<Observed> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      python,
      [SCRIPT],
      { signal: ctx.signal, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, PYTHONHASHSEED: '0' } },
      (err, stdout, stderr) => {
        if (err)
          return reject(
            new Error(`boto3's pass did not finish: ${err.message.split('\n')[0]}\n${stderr.slice(-2000)}`),
          );
        try {
          resolve(JSON.parse(stdout) as Observed);
        } catch {
          reject(new Error(`boto3's pass printed no JSON: ${stdout.slice(0, 500)}\n${stderr.slice(-2000)}`));
        }
      },
    );
    child.stdin?.end(JSON.stringify(input));
  });
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export async function boto3Pass(ctx: CheckContext): Promise<void> {
  let python: string;
  try {
    python = (await findPythonTools()).python;
  } catch (e) {
    ctx.skip(`boto3 is not available: ${(e as Error).message}`);
  }
  const bucket = uniqueBucket('sos-c9');
  const o = await runPass(ctx, python, {
    endpoint: ctx.target.baseUrl,
    ...credentialsOf(ctx),
    bucket,
    seed: ctx.seed,
    partSize: minPartBytes(ctx),
  });
  ctx.evidence.boto3 = o.boto3;
  ctx.evidence.bucket = bucket;
  ctx.log(`boto3 ${o.boto3} against ${ctx.target.baseUrl}, bucket ${bucket}`);
  /** A step's value, failing the check with boto3's error when the step raised. */
  const value = <T>(name: string, what: string): T => {
    const s = o[name] as Step<T> | undefined;
    ctx.expect(s, `boto3's pass has no step ${name}`);
    ctx.expect(
      s.ok,
      `through boto3, ${what} failed: ${s.ok ? '' : `${s.error.status ?? 'no status'} ${s.error.code ?? ''}`}`,
    );
    return s.value;
  };
  /** A step that must raise, with this status and code. */
  const refused = (name: string, what: string, status: number, code: string): void => {
    const s = o[name] as Step<unknown>;
    ctx.expect(
      !s.ok && s.error.status === status && s.error.code === code,
      `through boto3, ${what} answered ${s.ok ? `success (${JSON.stringify(s.value)})` : `${s.error.status} ${s.error.code}`}, not ${status} ${code}`,
    );
  };

  ctx.expect(value<number>('createBucket', 'CreateBucket') === 200, 'through boto3, CreateBucket did not answer 200');
  value('headBucket', 'HeadBucket');
  const put = value<{ etag: string }>('put', 'PutObject');
  ctx.expect(
    put.etag === o.putBody.etag,
    `through boto3, PutObject's ETag ${put.etag} is not the MD5 ${o.putBody.etag}`,
  );
  const got = value<Digest>('get', 'GetObject');
  ctx.expect(
    same(got, { sha256: o.putBody.sha256, length: o.putBody.length }),
    `through boto3, GetObject returned ${got.length} bytes (sha256 ${got.sha256.slice(0, 12)}), not the ${o.putBody.length} PUT (${o.putBody.sha256.slice(0, 12)})`,
  );
  const r = value<Digest & { status: number; contentRange: string }>('range', 'a ranged GetObject');
  const w = o.rangeWanted;
  ctx.expect(
    r.status === 206 && r.contentRange === `bytes ${w.first}-${w.last}/${o.putBody.length}` && r.sha256 === w.sha256,
    `through boto3, Range bytes=${w.first}-${w.last} answered ${r.status} ${r.contentRange} with ${r.length} bytes${r.sha256 === w.sha256 ? '' : ' (not those bytes)'}`,
  );
  const h = value<{ length: number; etag: string }>('head', 'HeadObject');
  ctx.expect(
    h.length === o.putBody.length && h.etag === o.putBody.etag,
    `through boto3, HeadObject said ${h.length} bytes and ETag ${h.etag}, not ${o.putBody.length} and ${o.putBody.etag}`,
  );
  refused('missing', 'GetObject of a key never written', 404, 'NoSuchKey');
  refused('badSecret', 'GetObject signed with a wrong secret', 403, 'SignatureDoesNotMatch');
  const l = value<{ keys: string[]; prefixes: string[]; pages: number }>('list', "ListObjectsV2 by boto3's paginator");
  ctx.expect(
    same(l.keys, o.listWanted.keys) && same(l.prefixes, o.listWanted.prefixes),
    `through boto3's paginator (prefix dir/, delimiter /, 2 a page), the listing was keys ${JSON.stringify(l.keys)} and prefixes ${JSON.stringify(l.prefixes)} over ${l.pages} pages, not ${JSON.stringify(o.listWanted.keys)} and ${JSON.stringify(o.listWanted.prefixes)}`,
  );
  const m = value<Digest & { etag: string; parts: [number, number][] }>('multipart', 'a multipart upload');
  const mw = o.multipartWanted;
  ctx.expect(
    same(m.parts, mw.parts),
    `through boto3, ListParts of parts uploaded 2 then 1 said ${JSON.stringify(m.parts)}, not ${JSON.stringify(mw.parts)} ([number, size] in part order)`,
  );
  ctx.expect(m.etag === mw.etag, `through boto3, CompleteMultipartUpload answered ETag ${m.etag}, not ${mw.etag}`);
  ctx.expect(
    m.sha256 === mw.sha256 && m.length === mw.length,
    `through boto3, the completed multipart object is ${m.length} bytes and not its parts in order (${mw.length})`,
  );
  const t = value<Digest>('transfer', "boto3's transfer manager (upload_fileobj, then download_fileobj, in parts)");
  ctx.expect(
    same(t, o.transferWanted),
    `through boto3's transfer manager, ${o.transferWanted.length} bytes uploaded in parts came back as ${t.length} bytes${t.sha256 === o.transferWanted.sha256 ? '' : ' that differ'}`,
  );
  const v = value<{
    markerHeader: boolean | undefined;
    getAfterDelete: { status: number | null; code?: string | null };
    firstVersion: string;
    versions: number;
    markers: number;
  }>('versioning', 'versioning (two versions, then a DELETE)');
  ctx.expect(v.markerHeader === true, 'through boto3, a DELETE on a versioned bucket did not say DeleteMarker: true');
  ctx.expect(
    v.getAfterDelete.status === 404 && v.getAfterDelete.code === 'NoSuchKey',
    `through boto3, GetObject after the delete marker answered ${v.getAfterDelete.status} ${v.getAfterDelete.code ?? ''}, not 404 NoSuchKey`,
  );
  ctx.expect(
    v.firstVersion === 'one',
    `through boto3, the first version by its id read ${JSON.stringify(v.firstVersion)}, not "one"`,
  );
  ctx.expect(
    v.versions === 2 && v.markers === 1,
    `through boto3, ListObjectVersions listed ${v.versions} versions and ${v.markers} delete markers, not 2 and 1`,
  );
  ctx.expect(
    value<number>('deleteBucket', 'deleting every version and then the bucket') === 204,
    'through boto3, DeleteBucket did not answer 204',
  );
}
