// How much of a paused WebSocket subscriber's stream the kernel can hold before a server counts any of it as unsent:
// the server's send buffer (Linux autotunes it up to tcp_wmem's maximum) plus the paused client's receive buffer
// (it stays near tcp_rmem's initial size, as it only grows when the application reads). SE-I12 streams the spec's
// bound plus this much, so a larger allowance than the host's own would make a correct server look wrong.
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;
/** Used when the target is on another host (or not on Linux): Linux's default caps, with room to spare. */
export const ASSUMED_ALLOWANCE = 6 * MiB;

export interface KernelAllowance {
  bytes: number;
  /** Where the figure came from, for the evidence. */
  source: string;
}

/** One field of a tcp_wmem/tcp_rmem file ("min default max"), by index; null when unreadable. */
function sysctlField(path: string, index: number): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim().split(/\s+/)[index]);
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The allowance for a target at `baseUrl`: on a loopback target (server and harness share the kernel) the host's
 * tcp_wmem maximum plus tcp_rmem's initial size plus 1 MiB of slack (measured on loopback with the defaults, 4 MiB
 * and 128 KiB: 4,029,246 bytes held); otherwise ASSUMED_ALLOWANCE.
 */
export function kernelAllowance(baseUrl: string, proc = '/proc/sys/net/ipv4'): KernelAllowance {
  const host = new URL(baseUrl).hostname;
  const wmemMax = sysctlField(`${proc}/tcp_wmem`, 2);
  const rmemInitial = sysctlField(`${proc}/tcp_rmem`, 1);
  if (!LOOPBACK.has(host) || wmemMax === null || rmemInitial === null)
    return {
      bytes: ASSUMED_ALLOWANCE,
      source: `assumed ${ASSUMED_ALLOWANCE} (target ${host}, not this host's kernel)`,
    };
  return {
    bytes: wmemMax + rmemInitial + MiB,
    source: `tcp_wmem max ${wmemMax} + tcp_rmem initial ${rmemInitial} + 1 MiB (this host, loopback target)`,
  };
}
