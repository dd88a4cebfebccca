// Chapter 13, the chat system: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown one),
// its mutants and its load test. HTTP goes through the validating client; WebSocket frames through frames.ts.
import { MUTANTS } from '../../../reference/13-chat-system/mutants.ts';
import { type CheckId, catalog } from '../../../specs/13-chat-system/generated/catalog.ts';
import { badInputIs4xxEverywhere } from '../../core/bad-input-property.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { apiServerKilled } from './api-server-killed.ts';
import { authTimeout } from './auth-timeout.ts';
import { channelsConformance } from './channels-conformance.ts';
import { chatServerKilled } from './chat-server-killed.ts';
import { chatServerRestarted } from './chat-server-restarted.ts';
import { chatServerStalled } from './chat-server-stalled.ts';
import { devicesConverge } from './devices-converge.ts';
import { droppedMidSend } from './dropped-mid-send.ts';
import { limits } from './limits.ts';
import { loadChatSystem } from './load.ts';
import { noDuplicates } from './no-duplicates.ts';
import { noLoss } from './no-loss.ts';
import { oneOrder } from './one-order.ts';
import { presenceHeartbeats } from './presence-heartbeats.ts';
import { pushWhenOffline } from './push-when-offline.ts';
import { slowClient } from './slow-client.ts';
import { storeOutage } from './store-outage.ts';
import { syncFromCursor } from './sync-from-cursor.ts';
import { usersConformance } from './users-conformance.ts';
import { webSocketConformance } from './websocket-conformance.ts';

export const chatSystem: ChapterModule<CheckId> = {
  slug: '13-chat-system',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('13-chat-system'),
  referenceManifest: new URL('../../../reference/13-chat-system/manifest.json', import.meta.url).pathname,
  checks: {
    'CHAT-C1': usersConformance,
    'CHAT-C2': channelsConformance,
    'CHAT-C3': webSocketConformance,
    'CHAT-C4': authTimeout,
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
    'CHAT-F4': apiServerKilled,
    'CHAT-F5': storeOutage,
    'CHAT-F6': chatServerRestarted,
    'CHAT-F7': chatServerStalled,
  },
  mutants: MUTANTS,
  load: loadChatSystem,
};
