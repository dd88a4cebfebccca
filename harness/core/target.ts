// What a check can do with the implementation under test. A target attached by URL can only be talked to; one
// started from a manifest can also be killed, paused and restarted. Checks that need more than the target offers
// are reported as skipped with the reason, never as passed.

import type { Toxic } from './network-faults.ts';

export type Capability = 'process-control' | 'network-faults' | `dependency:${string}`;

export interface DependencyHandle {
  name: string;
  /** The URL the implementation was given (through the fault proxy when there is one). */
  url: string;
  /** Stop (false) or restore (true) the dependency as the implementation sees it. */
  setReachable(reachable: boolean): Promise<void>;
  /** Puts a toxic (latency, resets, ...) on the link to the dependency; returns its name for removeToxic. */
  addToxic(t: Toxic): Promise<string>;
  removeToxic(name: string): Promise<void>;
}

export interface Target {
  readonly mode: 'url' | 'manifest';
  readonly baseUrl: string;
  readonly implementation: string;
  readonly manifestFile?: string;
  readonly variant?: string;
  readonly nodes: readonly string[];
  readonly processControl: boolean;
  readonly dependencies: Readonly<Record<string, DependencyHandle>>;
  /** Data directory of a node started from a manifest (absent for URL targets). */
  dataDir?(node?: string): string;
  /** Base URL of one node (the first when not given). */
  nodeUrl(node?: string): string;
  kill(node?: string): Promise<void>;
  pause(node?: string): Promise<void>;
  resume(node?: string): Promise<void>;
  /** Starts a killed or stopped node again with the same port and data directory, and waits until it is ready. */
  start(node?: string): Promise<void>;
  /** Graceful stop (the manifest's stop signal, then SIGKILL after the grace period). */
  stop(node?: string): Promise<void>;
  /** Cuts the network between two groups of nodes, both ways (manifest targets with a fault proxy). */
  partition?(a: string[], b: string[]): Promise<void>;
  /**
   * Stops and starts every node (and heals the network and dependencies): a known state again after a check that
   * was stopped mid-change. Manifest targets only.
   */
  restartAll?(): Promise<void>;
  /** Brings every node back (start what is down, resume what is paused) after a check that left it broken. */
  heal(): Promise<void>;
  /**
   * Points every node at another server for one of the manifest's dependencies (e.g. a PostgreSQL the harness owns
   * and can crash), restarting the nodes; `null` points them back at the one the target was started with. Only for
   * targets started from a manifest with that dependency configured.
   */
  useDependency?(name: string, url: string | null): Promise<void>;
  logs(): { node: string; path: string }[];
  close(): Promise<void>;
}

export class CapabilityMissing extends Error {}
