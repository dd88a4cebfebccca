// The AsyncAPI lint the chapters with a WebSocket share: a clean document passes, and each kind of mistake is named.
import { describe, expect, it } from 'vitest';
import { lintAsyncApiDoc } from './asyncapi-lint.ts';

const frames = { framesFile: 'specs/xx/frames.schema.json', framesSchema: { $defs: { Ping: {}, Pong: {} } } };
const payload = (def: string) => ({ payload: { schema: { $ref: `frames.schema.json#/$defs/${def}` } } });
const clean = () => ({
  asyncapi: '3.0.0',
  channels: { c: { messages: { ping: { $ref: '#/components/messages/ping' } } } },
  operations: {
    ping: {
      action: 'receive',
      channel: { $ref: '#/channels/c' },
      messages: [{ $ref: '#/channels/c/messages/ping' }],
      reply: { channel: { $ref: '#/channels/c' }, messages: [{ $ref: '#/components/messages/pong' }] },
    },
  },
  components: { messages: { ping: payload('Ping'), pong: payload('Pong') } },
});

describe('AsyncAPI lint', () => {
  it('passes a clean document', () => {
    expect(lintAsyncApiDoc(clean(), { ...frames, frameDefs: ['Ping', 'Pong'] })).toEqual([]);
  });

  it('names a wrong version, a payload outside the frames file or naming no $defs, a frame with no message', () => {
    const doc = clean();
    doc.asyncapi = '2.6.0';
    doc.components.messages.ping = { payload: { schema: { $ref: 'other.json#/$defs/Ping' } } };
    doc.components.messages.pong = payload('Pang');
    expect(lintAsyncApiDoc(doc, { ...frames, frameDefs: ['Ping', 'Pong'] })).toEqual([
      'asyncapi is 2.6.0, not 3.0.0',
      'message ping: payload is not a $ref into frames.schema.json',
      'message pong: $defs/Pang does not exist',
      'frame Ping has no AsyncAPI message',
      'frame Pong has no AsyncAPI message',
    ]);
  });

  it('names references that do not resolve and a bad action', () => {
    const doc = clean() as ReturnType<typeof clean> & { operations: Record<string, unknown> };
    doc.channels.c.messages.ping.$ref = '#/components/messages/gone';
    doc.operations.ping.action = 'publish';
    doc.operations.ping.reply.messages[0]!.$ref = '#/components/messages/nope';
    expect(lintAsyncApiDoc(doc, { ...frames, frameDefs: ['Ping'] })).toEqual([
      'channel c message ping: #/components/messages/gone does not resolve',
      'operation ping: action is not send/receive',
      'operation ping: message #/components/messages/nope does not resolve',
    ]);
    expect(lintAsyncApiDoc({ ...clean(), operations: {} }, { ...frames, frameDefs: [] })).toEqual(['no operations']);
  });
});
