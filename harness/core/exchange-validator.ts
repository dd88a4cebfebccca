// Checks one HTTP exchange against the chapter's OpenAPI document: the status is documented for the operation, the
// content type is one the response declares, required headers are present and fit their schemas, and the body fits
// its schema (Ajv, JSON Schema 2020-12 with formats). Every request a suite sends goes through here.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { deref, getPointer, matchOperation, type OpenApiDocument } from './openapi-document.ts';

type Json = Record<string, unknown>;

export interface ExchangeToCheck {
  method: string;
  path: string;
  requestBody?: unknown;
  /** Set when the harness means the request to be valid: then the request is checked too (a harness bug shows). */
  validRequest?: boolean;
  status: number;
  headers: Record<string, string>;
  bodyText: string;
}

export class ExchangeValidator {
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly api: OpenApiDocument) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(this.ajv);
    this.ajv.addSchema(api.doc, 'openapi');
  }

  private compile(schemaNode: unknown, pointer: string): ValidateFunction {
    const ref = (schemaNode as Json | undefined)?.$ref;
    const target = typeof ref === 'string' ? ref : pointer;
    let fn = this.cache.get(target);
    if (!fn) {
      fn = this.ajv.compile({ $ref: `openapi${target}` });
      this.cache.set(target, fn);
    }
    return fn;
  }

  private schemaErrors(fn: ValidateFunction, value: unknown, where: string): string[] {
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e) => `${where}${e.instancePath || ''} ${e.message ?? 'is invalid'}`);
  }

  validate(x: ExchangeToCheck): string[] {
    const v: string[] = [];
    const match = matchOperation(this.api, x.method, x.path);
    if (!match) return x.status >= 500 ? [`${x.status} from an undocumented route ${x.method} ${x.path}`] : [];
    const { operation, pointer } = match;

    if (x.validRequest && x.requestBody !== undefined) {
      const rb = deref(this.api.doc, operation.requestBody, `${pointer}/requestBody`);
      const media = ((rb.value as Json | undefined)?.content as Json | undefined)?.['application/json'] as
        | Json
        | undefined;
      if (media?.schema) {
        const fn = this.compile(media.schema, `${rb.pointer}/content/application~1json/schema`);
        v.push(...this.schemaErrors(fn, x.requestBody, 'request body').map((e) => `harness sent an invalid ${e}`));
      }
    }

    const responses = (operation.responses ?? {}) as Json;
    const key = [String(x.status), `${String(x.status)[0]}XX`, 'default'].find((k) => k in responses);
    if (!key) {
      v.push(
        `status ${x.status} is not documented for ${match.operationId} (documented: ${Object.keys(responses).join(', ')})`,
      );
      return v;
    }
    const resp = deref(this.api.doc, responses[key], `${pointer}/responses/${key}`);
    const respObj = resp.value as Json;

    const headers = (respObj.headers ?? {}) as Json;
    for (const [name, h] of Object.entries(headers)) {
      const hd = deref(this.api.doc, h, `${resp.pointer}/headers/${name}`);
      const hv = x.headers[name.toLowerCase()];
      const hobj = hd.value as Json;
      if (hv === undefined) {
        if (hobj.required) v.push(`required header ${name} is missing on ${x.status}`);
        continue;
      }
      if (hobj.schema) {
        const fn = this.compile(hobj.schema, `${hd.pointer}/schema`);
        v.push(...this.schemaErrors(fn, hv, `header ${name}`));
      }
    }

    const content = respObj.content as Json | undefined;
    const ctype = (x.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!content) {
      if (x.bodyText.length > 0) v.push(`${x.status} documents no body but one of ${x.bodyText.length} bytes came`);
      return v;
    }
    const media = content[ctype] as Json | undefined;
    if (!media) {
      v.push(
        `content type "${ctype}" is not documented for ${x.status} (documented: ${Object.keys(content).join(', ')})`,
      );
      return v;
    }
    if (media.schema) {
      let body: unknown;
      if (ctype.endsWith('json')) {
        try {
          body = JSON.parse(x.bodyText);
        } catch {
          v.push(`${x.status} body is not valid JSON`);
          return v;
        }
      } else body = x.bodyText;
      const fn = this.compile(media.schema, `${resp.pointer}/content/${ctype.replace(/\//g, '~1')}/schema`);
      v.push(...this.schemaErrors(fn, body, `${x.status} body`));
    }
    return v;
  }

  /** Schema errors of a value against the schema at a pointer of the document (none: it is valid). */
  validateValue(schemaNode: unknown, pointer: string, value: unknown): string[] {
    return this.schemaErrors(this.compile(schemaNode, pointer), value, '');
  }

  /** The chapter's OpenAPI document (bundled), for checks that walk its operations. */
  get document(): OpenApiDocument {
    return this.api;
  }

  /** The JSON schema at a pointer of the document, resolved (for generating inputs from it). */
  schemaAt(pointer: string): Json {
    return deref(this.api.doc, getPointer(this.api.doc, pointer), pointer).value;
  }

  /** Follows a schema node's $ref chain within the document. */
  resolve(node: unknown): Json {
    return deref(this.api.doc, node, '#').value;
  }
}
