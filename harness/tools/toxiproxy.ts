// Locates (or builds once) toxiproxy-server, the TCP proxy the harness injects network faults with.
import { type FindToolOptions, type FoundTool, findTool, type ToolDefinition, type VersionCheck } from './find-tool.ts';

/** The one place the toxiproxy version is pinned. */
export const TOXIPROXY_VERSION = 'v2.5.0';
export const TOXIPROXY_MODULE = 'github.com/Shopify/toxiproxy/v2';

/**
 * Accepts toxiproxy-server 2.x. A plain `go install` build reports "git" (the release build stamps the version
 * with -ldflags); that is accepted too, as its HTTP API is the 2.x one.
 */
export function checkToxiproxyVersion(output: string): VersionCheck {
  const m = /toxiproxy-server version (\S+)/.exec(output);
  if (!m?.[1]) {
    const first = output.split('\n')[0] ?? '';
    return {
      ok: false,
      reason: `its '-version' output ${JSON.stringify(first.slice(0, 120))} is not toxiproxy-server's`,
    };
  }
  const raw = m[1];
  if (raw === 'git') return { ok: true, version: 'git' };
  const major = /^v?(\d+)\./.exec(raw)?.[1];
  if (major !== '2') {
    return {
      ok: false,
      reason: `toxiproxy-server ${raw} is not supported; sdgrade needs 2.x (pinned ${TOXIPROXY_VERSION})`,
    };
  }
  return { ok: true, version: raw.startsWith('v') ? raw : `v${raw}` };
}

export const TOXIPROXY_TOOL: ToolDefinition = {
  name: 'toxiproxy-server',
  envVar: 'SDGRADE_TOXIPROXY',
  pathNames: ['toxiproxy-server', 'toxiproxy'],
  cacheName: 'toxiproxy-server',
  version: TOXIPROXY_VERSION,
  versionArgs: ['-version'],
  checkVersion: checkToxiproxyVersion,
  build: {
    displayName: 'toxiproxy-server',
    pkg: `${TOXIPROXY_MODULE}/cmd/server`,
    version: TOXIPROXY_VERSION,
    builtName: 'server',
    minGo: [1, 17],
    expectedTime: 'under a minute',
    alternative: 'or put toxiproxy-server 2.x on PATH: https://github.com/Shopify/toxiproxy#1-installing-toxiproxy',
    // Stamp the version as the upstream release build does, so `-version` says 2.5.0 instead of "git".
    ldflags: `-X ${TOXIPROXY_MODULE}.Version=${TOXIPROXY_VERSION.slice(1)}`,
  },
};

/** Order: `$SDGRADE_TOXIPROXY`, `toxiproxy-server`/`toxiproxy` on PATH, the cache, then a build (unless build: false). */
export function findToxiproxy(opts: FindToolOptions = {}): Promise<FoundTool> {
  return findTool(TOXIPROXY_TOOL, opts);
}
