// What the cluster checks (SOS-F6, SOS-F2 on a cluster) share: the data nodes a target declares (setting dataNodes),
// the placement service's report that a node has caught up (setting replicationPath), and object bytes looked for
// in a node's data directory without knowing its layout.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckContext } from '../../core/check-context.ts';
import { timeScale } from '../../core/time-scale.ts';

/** The manifest nodes the target declares as holding object data (setting dataNodes); none for one node. */
export function declaredDataNodes(ctx: CheckContext): string[] {
  const declared = String(ctx.setting('dataNodes', ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of declared)
    if (!ctx.target.nodes.includes(n))
      throw new Error(`setting dataNodes names ${n}, not a node of the manifest (${ctx.target.nodes.join(', ')})`);
  return declared;
}

/** The data nodes, or a skip: one node has nothing to lose but itself (SOS-F1). */
export function dataNodesOf(ctx: CheckContext): string[] {
  const declared = declaredDataNodes(ctx);
  if (declared.length < 2)
    ctx.skip(
      'not applicable to a target of one node: a data node killed needs a cluster of data nodes (setting dataNodes names the manifest nodes that hold object data; the reference: manifest.cluster.json)',
    );
  return declared;
}

type ReplicationState = { nodes?: Record<string, string>; pendingCopies?: number };

/**
 * Waits until the placement service (setting replicationPath) has every one of `nodes` up and owes no copy or
 * delete; fails the check if that never comes. Null when the target declares no replicationPath.
 */
export async function waitCaughtUp(ctx: CheckContext, nodes: readonly string[]): Promise<ReplicationState | null> {
  const path = String(ctx.setting('replicationPath', ''));
  if (!path) return null;
  const url = new URL(path, ctx.target.baseUrl);
  const deadline = Date.now() + 60_000 * timeScale();
  for (;;) {
    const state = (await (await fetch(url, { signal: ctx.signal })).json()) as ReplicationState;
    if (nodes.every((n) => state.nodes?.[n] === 'up') && state.pendingCopies === 0) return state;
    ctx.expect(Date.now() < deadline, `${nodes.join(', ')} never caught up: ${JSON.stringify(state)}`);
    await sleep(100);
  }
}

/** A file's bytes, or null when it went away since it was listed (a running node's compaction deletes files). */
function bytesOf(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Every regular file under a directory (the implementation's data files, whatever its layout). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (s?.isDirectory()) out.push(...filesUnder(p));
    else if (s?.isFile()) out.push(p);
  }
  return out;
}

/** For each needle, whether some file under `dir` holds it as it is. */
export function foundUnder(dir: string, needles: readonly Buffer[]): boolean[] {
  const found = needles.map(() => false);
  for (const file of filesUnder(dir)) {
    const bytes = bytesOf(file);
    for (const [i, n] of needles.entries()) if (!found[i] && bytes?.includes(n)) found[i] = true;
  }
  return found;
}
