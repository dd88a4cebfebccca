// The manifest's `${peers}`: the other nodes as name=url pairs, comma-separated. Every multi-node reference reads
// it the same way; a malformed entry is a configuration error (the process refuses to start).
import { ConfigError } from './config.ts';

export function parsePeers(text: string | undefined): Map<string, string> {
  const peers = new Map<string, string>();
  for (const part of (text ?? '').split(',')) {
    const p = part.trim();
    if (!p) continue;
    const i = p.indexOf('=');
    if (i < 1) throw new ConfigError(`PEERS entry '${p}' is not name=url`);
    peers.set(p.slice(0, i), p.slice(i + 1).replace(/\/+$/, ''));
  }
  return peers;
}
