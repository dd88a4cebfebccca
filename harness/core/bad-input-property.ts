// The bad-input invariant every chapter shares, generated from its spec: for every operation, a request that breaks
// the request body's schema or one parameter's schema gets a documented 4xx with a problem body, never a 5xx, a
// hang or a 2xx. The named cases come first (each breaks one thing), then arbitrary JSON and text bodies as a
// fast-check property. A chapter only names the operations to leave out (ones that cannot be sent twice safely).
import fc from 'fast-check';
import type { CheckContext } from './check-context.ts';
import type { Exchange } from './http-client.ts';
import { badBodies, validSample } from './negative-inputs.ts';
import { deref, type ListedOperation, listOperations } from './openapi-document.ts';

type Json = Record<string, unknown>;

export interface BadInputOptions {
  /** operationIds not to send bad input to (readiness is always left out). */
  exclude?: readonly string[];
  /** A valid value per parameter name, where the spec's example is not one the target knows. */
  values?: Readonly<Record<string, string>>;
  /** Headers sent with every request (the credentials of operations that need them), so the 4xx graded is the input's. */
  headers?: Readonly<Record<string, string>>;
}

/** The invariant's assertion: a 4xx with an RFC 9457 problem body. */
export function expectProblem4xx(ctx: CheckContext, label: string, x: Exchange): void {
  if (x.status === null || x.status >= 500 || x.status < 400)
    ctx.fail(`${label}: got ${x.status ?? x.error}, not a 4xx`, { exchange: x });
  if (!(x.headers['content-type'] ?? '').startsWith('application/problem+json'))
    ctx.fail(`${label}: the ${x.status} has no problem body`, { exchange: x });
}

function validParam(p: Json, schema: Json, values: Readonly<Record<string, string>>): string | undefined {
  const name = String(p.name);
  if (values[name] !== undefined) return values[name];
  for (const v of [p.example, schema.example, schema.default, (schema.enum as unknown[] | undefined)?.[0]])
    if (v !== undefined) return String(v);
  if (!p.required) return undefined;
  if (schema.type === 'integer' || schema.type === 'number') return String(schema.minimum ?? 1);
  return 'a'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
}

/** Values that break a parameter's schema, each labelled. */
function badParamValues(p: Json, schema: Json): { label: string; value: string | undefined }[] {
  const out: { label: string; value: string | undefined }[] = [];
  const name = `${p.in} parameter ${p.name}`;
  if (p.required && p.in !== 'path') out.push({ label: `${name} missing`, value: undefined });
  if (schema.type === 'integer' || schema.type === 'number') {
    out.push({ label: `${name} not a number`, value: 'abc' });
    if (schema.type === 'integer') out.push({ label: `${name} not an integer`, value: '1.5' });
    if (typeof schema.minimum === 'number')
      out.push({ label: `${name} below its minimum`, value: String(schema.minimum - 1) });
    if (typeof schema.maximum === 'number')
      out.push({ label: `${name} above its maximum`, value: String(schema.maximum + 1) });
  }
  if (schema.type === 'string') {
    if (typeof schema.maxLength === 'number')
      out.push({ label: `${name} longer than ${schema.maxLength}`, value: 'a'.repeat(schema.maxLength + 1) });
    if (Array.isArray(schema.enum)) out.push({ label: `${name} not one of its values`, value: 'not-a-member' });
    if (typeof schema.pattern === 'string') {
      const re = new RegExp(schema.pattern, 'u');
      // Header values must be ASCII to be sent at all; a ".." path segment is resolved away by the URL parser.
      const candidates = [
        'no pattern here',
        '-',
        'a/b',
        '1e3',
        '-1',
        ...(p.in === 'header' ? [] : ['\u00e9']),
        ...(p.in === 'path' ? [] : ['..']),
      ];
      for (const v of candidates)
        if (!re.test(v)) out.push({ label: `${name} ${JSON.stringify(v)} breaks its pattern`, value: v });
    }
  }
  return out;
}

/** Whether a parameter value surely breaks its schema (the cases badParamValues knows; anything else: false). */
export function violates(schema: Json, value: string): boolean {
  if (schema.type === 'integer' || schema.type === 'number') {
    const re = schema.type === 'integer' ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
    if (!re.test(value)) return true;
    const n = Number(value);
    return (
      (typeof schema.minimum === 'number' && n < schema.minimum) ||
      (typeof schema.maximum === 'number' && n > schema.maximum)
    );
  }
  if (schema.type !== 'string') return false;
  const length = [...value].length;
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) return true;
  if (typeof schema.minLength === 'number' && length < schema.minLength) return true;
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return true;
  return typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value);
}

interface Request {
  path: string;
  headers: Record<string, string>;
}

function buildRequest(op: ListedOperation, params: Record<string, string | undefined>): Request {
  let path = op.template;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  op.parameters.forEach((p) => {
    const v = params[`${p.in}:${p.name}`];
    if (v === undefined) return;
    if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(v));
    else if (p.in === 'query') query.set(String(p.name), v);
    else if (p.in === 'header') headers[String(p.name)] = v;
  });
  const qs = query.toString();
  return { path: qs ? `${path}?${qs}` : path, headers };
}

export async function badInputIs4xxEverywhere(ctx: CheckContext, o: BadInputOptions = {}): Promise<void> {
  const api = ctx.validator.document;
  const resolve = (n: unknown) => ctx.validator.resolve(n);
  const exclude = new Set(['getReadiness', ...(o.exclude ?? [])]);
  const bodied: { op: ListedOperation; req: Request; schemaNode: unknown; pointer: string }[] = [];
  const params: {
    op: ListedOperation;
    key: string;
    schema: Json;
    valid: Record<string, string | undefined>;
    body: string | undefined;
  }[] = [];
  let sent = 0;
  const send = async (op: ListedOperation, req: Request, raw: string | undefined, contentType?: string) => {
    sent++;
    return ctx.http.send({
      method: op.method.toUpperCase(),
      path: req.path,
      headers: { ...o.headers, ...req.headers },
      ...(raw === undefined ? {} : { rawBody: raw, contentType: contentType ?? 'application/json' }),
      validRequest: false,
      timeoutMs: 5000,
    });
  };
  for (const op of listOperations(api).filter((x) => !exclude.has(x.operationId))) {
    const schemas = op.parameters.map((p) => resolve(p.schema ?? {}));
    const valid: Record<string, string | undefined> = {};
    op.parameters.forEach((p, i) => {
      valid[`${p.in}:${p.name}`] = validParam(p, schemas[i]!, o.values ?? {});
    });
    const rb = op.operation.requestBody ? deref(api.doc, op.operation.requestBody, `${op.pointer}/requestBody`) : null;
    const content = ((rb?.value as Json | undefined)?.content ?? {}) as Json;
    const schemaNode = (content['application/json'] as Json | undefined)?.schema;
    const validBody = schemaNode ? JSON.stringify(validSample(resolve(schemaNode), resolve)) : undefined;
    // Each parameter broken in turn, everything else valid.
    for (const [i, p] of op.parameters.entries()) {
      if (p.in === 'path' || p.in === 'query')
        params.push({ op, key: `${p.in}:${p.name}`, schema: schemas[i]!, valid, body: validBody });
      for (const bad of badParamValues(p, schemas[i]!)) {
        const req = buildRequest(op, { ...valid, [`${p.in}:${p.name}`]: bad.value });
        expectProblem4xx(ctx, `${op.operationId}: ${bad.label}`, await send(op, req, validBody));
      }
    }
    if (!schemaNode) continue;
    const req = buildRequest(op, valid);
    for (const b of badBodies(schemaNode, resolve))
      expectProblem4xx(ctx, `${op.operationId}: ${b.label}`, await send(op, req, b.raw, b.contentType));
    const pointer = `${rb!.pointer}/content/application~1json/schema`;
    bodied.push({ op, req, schemaNode, pointer });
  }
  if (bodied.length > 0) {
    // Anything that is not a valid body is a documented 4xx (a generated body the schema accepts is not sent).
    await ctx.property(fc.tuple(fc.constantFrom(...bodied), fc.oneof(fc.json(), fc.string())), async ([b, raw]) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined && ctx.validator.validateValue(b.schemaNode, b.pointer, parsed).length === 0) return;
      expectProblem4xx(ctx, `${b.op.operationId}: body ${raw.slice(0, 80)}`, await send(b.op, b.req, raw));
    });
  }
  if (params.length > 0) {
    // Arbitrary strings as path and query parameters: any value the parameter's schema refuses is a documented 4xx.
    const printable = fc.string({ minLength: 1, maxLength: 40 }).filter((v) => v !== '.' && v !== '..');
    await ctx.property(fc.tuple(fc.constantFrom(...params), printable), async ([p, value]) => {
      if (!violates(p.schema, value)) return;
      const x = await send(p.op, buildRequest(p.op, { ...p.valid, [p.key]: value }), p.body);
      expectProblem4xx(ctx, `${p.op.operationId}: ${p.key} = ${JSON.stringify(value)}`, x);
    });
  }
  ctx.evidence.badRequestsSent = sent;
  ctx.evidence.operationsWithBodies = bodied.map((b) => b.op.operationId);
}
