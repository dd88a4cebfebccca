// A target the harness only talks to: someone else started it. Process-level faults are unavailable.
import { CapabilityMissing, type Target } from './target.ts';

export class UrlTarget implements Target {
  readonly mode = 'url' as const;
  readonly nodes = ['remote'] as const;
  readonly processControl = false;
  readonly dependencies = {};

  constructor(
    readonly baseUrl: string,
    readonly implementation: string,
  ) {}

  nodeUrl(): string {
    return this.baseUrl;
  }

  private missing(): never {
    throw new CapabilityMissing(
      'the target was given by URL; process control (kill -9, pause, restart) needs a manifest (see docs/IMPLEMENTING.md)',
    );
  }
  kill(): Promise<void> {
    this.missing();
  }
  pause(): Promise<void> {
    this.missing();
  }
  resume(): Promise<void> {
    this.missing();
  }
  start(): Promise<void> {
    this.missing();
  }
  stop(): Promise<void> {
    this.missing();
  }
  async heal(): Promise<void> {}
  logs(): { node: string; path: string }[] {
    return [];
  }
  async close(): Promise<void> {}
}
