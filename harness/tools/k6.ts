// Locates (or builds once) the k6 binary the load tests run with.
import { type FindToolOptions, type FoundTool, findTool, type ToolDefinition, type VersionCheck } from './find-tool.ts';

/** The one place the k6 version is pinned. Thresholds and yardstick ratios were calibrated with it. */
export const K6_VERSION = 'v1.8.1';
export const K6_MODULE = 'go.k6.io/k6';

/** Accepts any k6 v1.x: the summary-export format and dashboard env vars the runner uses are stable within v1. */
export function checkK6Version(output: string): VersionCheck {
  // k6 prints its own file name first ("k6-v1.8.1 v1.8.1 (go1.26.8, linux/amd64)"), so match what follows it.
  const m = /\bv(\d+)\.(\d+)\.(\d+)[^\s(]*(?=\s+\([^)]*\bgo\d)/.exec(output);
  if (!m) {
    const first = output.split('\n')[0] ?? '';
    return { ok: false, reason: `its 'version' output ${JSON.stringify(first.slice(0, 120))} is not k6's` };
  }
  const version = m[0];
  if (Number(m[1]) !== 1) {
    return { ok: false, reason: `k6 ${version} is not supported; sdgrade needs k6 v1.x (pinned ${K6_VERSION})` };
  }
  return { ok: true, version };
}

export const K6_TOOL: ToolDefinition = {
  name: 'k6',
  envVar: 'SDGRADE_K6',
  pathNames: ['k6'],
  cacheName: 'k6',
  version: K6_VERSION,
  versionArgs: ['version'],
  checkVersion: checkK6Version,
  build: {
    displayName: 'k6',
    pkg: K6_MODULE,
    version: K6_VERSION,
    builtName: 'k6',
    minGo: [1, 25],
    expectedTime: 'about 2 minutes',
    alternative: 'or put k6 v1.x on PATH: https://grafana.com/docs/k6/latest/set-up/install-k6/',
  },
};

/** Order: `$SDGRADE_K6`, `k6` on PATH (v1.x only), the cache, then a `go install` build (unless build: false). */
export function findK6(opts: FindToolOptions = {}): Promise<FoundTool> {
  return findTool(K6_TOOL, opts);
}
