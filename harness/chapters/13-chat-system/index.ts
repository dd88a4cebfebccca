// Chapter 13, the chat system: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown one),
// its mutants and its load test. HTTP goes through the validating client; WebSocket frames through frames.ts.
import { MUTANTS } from '../../../reference/13-chat-system/mutants.ts';
import { type CheckId, catalog } from '../../../specs/13-chat-system/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { channelsConformance, usersConformance, webSocketConformance } from './conformance.ts';
import { chatServerKilled, droppedMidSend, slowClient } from './faults.ts';
import { loadChatSystem } from './load.ts';
import {
  devicesConverge,
  limits,
  noDuplicates,
  noLoss,
  oneOrder,
  presenceHeartbeats,
  pushWhenOffline,
  syncFromCursor,
} from './properties.ts';

export const chatSystem: ChapterModule<CheckId> = {
  slug: '13-chat-system',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('13-chat-system'),
  referenceManifest: new URL('../../../reference/13-chat-system/manifest.json', import.meta.url).pathname,
  checks: {
    'CHAT-C1': usersConformance,
    'CHAT-C2': channelsConformance,
    'CHAT-C3': webSocketConformance,
    'CHAT-I1': oneOrder,
    'CHAT-I2': noLoss,
    'CHAT-I3': noDuplicates,
    'CHAT-I4': devicesConverge,
    'CHAT-I5': syncFromCursor,
    'CHAT-I6': presenceHeartbeats,
    'CHAT-I7': pushWhenOffline,
    'CHAT-I8': limits,
    // Bad input is a documented 4xx everywhere (validation comes before authentication, so no token is needed).
    'CHAT-I9': (ctx) => badInputIs4xxEverywhere(ctx),
    'CHAT-F1': chatServerKilled,
    'CHAT-F2': droppedMidSend,
    'CHAT-F3': slowClient,
  },
  mutants: MUTANTS,
  load: loadChatSystem,
};
