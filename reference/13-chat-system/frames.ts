// The client frames of specs/13-chat-system/frames.schema.json, compiled once: the chat server refuses what does not
// fit with the `invalid_frame` error frame (the spec is the one source of what a frame may be).
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const FRAMES_SCHEMA_URL = new URL('../../specs/13-chat-system/frames.schema.json', import.meta.url);

/** The reason given for a frame that is not JSON at all. */
export const NOT_JSON = 'the frame is not JSON';

export type ClientFrame =
  | { type: 'auth'; token: string }
  | { type: 'send'; channelId: string; clientMessageId: string; text: string }
  | { type: 'ack'; channelId: string; messageId: number }
  | { type: 'sync'; cursors: { channelId: string; curMaxMessageId: number }[] }
  | { type: 'heartbeat' };

export function clientFrameParser(): (text: string) => ClientFrame | { invalid: string } {
  const schema = JSON.parse(readFileSync(FRAMES_SCHEMA_URL, 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats.default(ajv);
  ajv.addSchema(schema);
  const validate = ajv.getSchema(`${schema.$id}#/$defs/ClientFrame`)!;
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { invalid: NOT_JSON };
    }
    if (!validate(value)) {
      const t = (value as { type?: unknown } | null)?.type;
      return { invalid: `not a client frame${typeof t === 'string' ? ` of type ${t}` : ''} (see frames.schema.json)` };
    }
    return value as ClientFrame;
  };
}
