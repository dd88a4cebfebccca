// S3's answers as XML: the Error document (the shape every S3 client parses) and the bodies of ListBuckets and
// ListObjectsV2.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChecksumError } from './data-store.ts';
import { encodeToken, type ListPage } from './listing.ts';
import type { BucketRow } from './metadata-store.ts';
import type { MutantName } from './mutants.ts';
import { el, errorXml, urlEncoded, XML_DECL } from './xml.ts';

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendXml(
  reply: FastifyReply,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(status)
    .headers(headers)
    .header('content-type', 'application/xml')
    .send(XML_DECL + body);
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  resource: string,
  requestId: string,
): FastifyReply {
  let e: S3Error;
  if (error instanceof S3Error) e = error;
  else if (error instanceof ChecksumError) {
    request.log.error({ err: error }, 'stored bytes failed their checksum; not served');
    e = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  } else {
    request.log.error({ err: error }, 'request failed');
    e = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  reply.code(e.status).header('content-type', 'application/xml');
  if (request.method === 'HEAD') return reply.send();
  return reply.send(errorXml(e.code, e.message, resource, requestId));
}

export function listAllMyBucketsXml(all: BucketRow[]): string {
  const buckets = all
    .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', new Date(b.created).toISOString())}</Bucket>`)
    .join('');
  return `<ListAllMyBucketsResult><Owner>${el('ID', 'sdgrade')}</Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`;
}

/** ListObjectsV2's answer: the query's parameters echoed as S3 does, then the page's keys and common prefixes. */
export function listBucketResultXml(l: {
  bucket: string;
  prefix: string;
  delimiter: string;
  maxKeysText: string | null;
  encoding: string | null;
  token: string | null;
  startAfter: string;
  page: ListPage;
  mutant?: MutantName | undefined;
}): string {
  const { prefix, delimiter, maxKeysText, encoding, token, startAfter, page } = l;
  const enc = (s: string) => (encoding === 'url' ? urlEncoded(s) : s);
  // MUTANT list-key-unencoded: ListObjectsV2's Key answered as it is under encoding-type=url.
  // MUTANT list-plus-unencoded: Keys encoded with encodeURI's set, which leaves `+` as it is (a space still `+`).
  const encKey =
    l.mutant === 'list-key-unencoded'
      ? (s: string) => s
      : l.mutant === 'list-plus-unencoded' && encoding === 'url'
        ? (s: string) => encodeURI(s).replace(/%20/g, '+')
        : enc;
  // MUTANT list-start-after-unencoded: ListObjectsV2's StartAfter echoed as it is under encoding-type=url.
  const encAfter = l.mutant === 'list-start-after-unencoded' ? (s: string) => s : enc;
  const contents = page.entries
    .map((e) =>
      e.kind === 'object'
        ? `<Contents>${el('Key', encKey(e.row.key.toString('utf8')))}${el('LastModified', new Date(e.row.lastModified).toISOString())}` +
          `${el('ETag', `"${e.row.etag}"`)}${el('Size', e.row.size)}${el('StorageClass', 'STANDARD')}</Contents>`
        : '',
    )
    .join('');
  const prefixes = page.entries
    .map((e) =>
      e.kind === 'prefix' ? `<CommonPrefixes>${el('Prefix', enc(e.prefix.toString('utf8')))}</CommonPrefixes>` : '',
    )
    .join('');
  return (
    `<ListBucketResult>${el('Name', l.bucket)}${el('Prefix', enc(prefix))}` +
    `${delimiter ? el('Delimiter', enc(delimiter)) : ''}${el('MaxKeys', maxKeysText === null ? 1000 : Number(maxKeysText))}` +
    `${encoding ? el('EncodingType', encoding) : ''}${el('KeyCount', page.entries.length)}` +
    `${el('IsTruncated', page.next !== undefined)}${token !== null ? el('ContinuationToken', token) : ''}` +
    `${page.next ? el('NextContinuationToken', encodeToken(page.next)) : ''}` +
    `${startAfter && token === null ? el('StartAfter', encAfter(startAfter)) : ''}${contents}${prefixes}</ListBucketResult>`
  );
}
