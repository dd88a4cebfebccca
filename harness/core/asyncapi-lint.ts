// A lint of a chapter's AsyncAPI 3 document as far as this project can go without an AsyncAPI parser: the version,
// every message payload a $ref into the chapter's frames schema file naming a $defs entry that exists, every frame
// definition the harness validates covered by a message, and every channel message and operation reference (its
// channel, its messages and its reply's) resolving inside the document. The frames schema itself (strict Ajv, its
// examples) is each chapter's own lint.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';

type Json = Record<string, unknown>;

export interface AsyncApiLintInput {
  /** The AsyncAPI document's path. */
  file: string;
  /** The frames schema (its file name is what the payloads' $refs must name). */
  framesFile: string;
  framesSchema: { $defs?: Record<string, unknown> };
  /** The $defs every one of which must be some message's payload (the frames the harness checks). */
  frameDefs: readonly string[];
}

/** The problems found (empty when clean). */
export function lintAsyncApi(o: AsyncApiLintInput): string[] {
  return lintAsyncApiDoc(parse(readFileSync(o.file, 'utf8')) as Json, o);
}

export function lintAsyncApiDoc(doc: Json, o: Omit<AsyncApiLintInput, 'file'>): string[] {
  const problems: string[] = [];
  if (doc.asyncapi !== '3.0.0') problems.push(`asyncapi is ${String(doc.asyncapi)}, not 3.0.0`);
  const defs = o.framesSchema.$defs ?? {};
  const framesName = basename(o.framesFile).replace(/[.]/g, '\\.');
  const payloadRef = new RegExp(`^${framesName}#/\\$defs/(\\w+)$`);
  const messages = ((doc.components as Json | undefined)?.messages ?? {}) as Record<string, Json>;
  const covered = new Set<string>();
  for (const [name, m] of Object.entries(messages)) {
    const ref = ((m.payload as Json | undefined)?.schema as Json | undefined)?.$ref;
    const match = typeof ref === 'string' ? payloadRef.exec(ref) : null;
    if (!match) problems.push(`message ${name}: payload is not a $ref into ${basename(o.framesFile)}`);
    else if (!defs[match[1]!]) problems.push(`message ${name}: $defs/${match[1]} does not exist`);
    else covered.add(match[1]!);
  }
  for (const def of o.frameDefs) if (!covered.has(def)) problems.push(`frame ${def} has no AsyncAPI message`);
  const resolves = (ref: unknown): boolean => {
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return false;
    let node: unknown = doc;
    for (const part of ref.slice(2).split('/')) node = (node as Json | undefined)?.[part];
    return node !== undefined;
  };
  for (const [cname, c] of Object.entries((doc.channels ?? {}) as Record<string, Json>))
    for (const [mname, m] of Object.entries((c.messages ?? {}) as Record<string, Json>))
      if (!resolves(m.$ref)) problems.push(`channel ${cname} message ${mname}: ${String(m.$ref)} does not resolve`);
  const operations = Object.entries((doc.operations ?? {}) as Record<string, Json>);
  if (operations.length === 0) problems.push('no operations');
  for (const [oname, op] of operations) {
    if (op.action !== 'send' && op.action !== 'receive')
      problems.push(`operation ${oname}: action is not send/receive`);
    if (!resolves((op.channel as Json | undefined)?.$ref))
      problems.push(`operation ${oname}: its channel does not resolve`);
    const reply = op.reply as Json | undefined;
    for (const m of [...((op.messages as Json[]) ?? []), ...((reply?.messages as Json[]) ?? [])])
      if (!resolves(m.$ref)) problems.push(`operation ${oname}: message ${String(m.$ref)} does not resolve`);
  }
  return problems;
}
