// The market-data frame validator: every frame the harness receives on the WebSocket is checked against the JSON
// Schemas of specs/29-stock-exchange/marketdata-frames.schema.json (Ajv 2020), against the definition its `type`
// names - the frame-level sibling of the HTTP exchange validator, as chapter 13 does for its chat frames.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { lintAsyncApi } from '../../core/asyncapi-lint.ts';
import { specFile } from '../../core/paths.ts';

export const MD_FRAMES_FILE = specFile('29-stock-exchange', 'marketdata-frames.schema.json');
export const MD_ASYNCAPI_FILE = specFile('29-stock-exchange', 'asyncapi.yaml');

/** `type` -> $defs name of every server frame. */
export const MD_FRAME_DEFS: Record<string, string> = {
  snapshot: 'Snapshot',
  l2update: 'BookUpdate',
  trade: 'Trade',
  l1: 'L1',
  candle: 'Candle',
};

type Json = Record<string, unknown>;

export class MdFrameValidator {
  private readonly ajv: Ajv2020;
  private readonly id: string;
  private readonly fns = new Map<string, ValidateFunction>();

  constructor(strict = false) {
    const schema = JSON.parse(readFileSync(MD_FRAMES_FILE, 'utf8')) as Json;
    this.ajv = new Ajv2020({ strict, allErrors: true });
    this.ajv.addSchema(schema);
    this.id = String(schema.$id);
  }

  fn(def: string): ValidateFunction {
    let f = this.fns.get(def);
    if (!f) {
      f = this.ajv.getSchema(`${this.id}#/$defs/${def}`);
      if (!f) throw new Error(`marketdata-frames.schema.json has no $defs/${def}`);
      this.fns.set(def, f);
    }
    return f;
  }

  /** The violations of a received frame (empty when it fits the definition its `type` names). */
  check(frame: unknown): string[] {
    const t = (frame as { type?: unknown } | null)?.type;
    const def = typeof t === 'string' ? MD_FRAME_DEFS[t] : undefined;
    if (!def) return [`a frame of unknown type ${JSON.stringify(t)}`];
    const f = this.fn(def);
    if (f(frame)) return [];
    return (f.errors ?? []).map((e) => `${def}${e.instancePath || ''} ${e.message ?? 'is invalid'}`);
  }
}

/** The schema file compiles under Ajv's strict mode and every example fits its definition (empty when clean). */
export function lintMdFrames(): string[] {
  let v: MdFrameValidator;
  try {
    v = new MdFrameValidator(true);
  } catch (e) {
    return [`marketdata-frames.schema.json does not compile under Ajv strict mode: ${(e as Error).message}`];
  }
  const schema = JSON.parse(readFileSync(MD_FRAMES_FILE, 'utf8')) as { $defs: Record<string, Json> };
  const problems: string[] = [];
  for (const [name, d] of Object.entries(schema.$defs)) {
    try {
      v.fn(name);
    } catch (e) {
      problems.push(`$defs/${name} does not compile: ${(e as Error).message}`);
      continue;
    }
    for (const ex of (d.examples as unknown[] | undefined) ?? [])
      if (!v.fn(name)(ex)) problems.push(`$defs/${name} example does not fit: ${JSON.stringify(v.fn(name).errors)}`);
  }
  for (const def of Object.values(MD_FRAME_DEFS)) if (!schema.$defs[def]) problems.push(`no $defs/${def}`);
  return problems;
}

/** asyncapi.yaml: AsyncAPI 3, a message for every frame type, payloads $refs into the frames file, references resolve. */
export function lintMdAsyncApi(): string[] {
  return lintAsyncApi({
    file: MD_ASYNCAPI_FILE,
    framesFile: MD_FRAMES_FILE,
    framesSchema: JSON.parse(readFileSync(MD_FRAMES_FILE, 'utf8')) as { $defs?: Record<string, unknown> },
    frameDefs: Object.values(MD_FRAME_DEFS),
  });
}
