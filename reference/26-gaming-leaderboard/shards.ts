// Score-range sharding (the book's "Scaling Redis", its choice at 500M DAU): each month's board split into fixed
// shards by score, shard 0 holding the lowest scores. SHARDING=score-range turns it on; SHARD_BOUNDS gives the lowest
// score of every shard after the first, ascending (n bounds make n + 1 shards). Unset: one board a month, as before.
// Equal scores always fall in one shard, so a shared rank is the players of the higher shards + the rank in the own
// shard, and board order is the shards' orders one after the other, highest shard first.
import { ConfigError } from '../kit/config.ts';

export interface ShardBounds {
  /** The lowest score of shards 1..n-1 (shard 0 takes everything below the first), strictly ascending. */
  readonly lower: readonly number[];
}

/** The shard a score belongs to: the number of bounds at or below it. */
export function shardOf(bounds: ShardBounds, score: number): number {
  let k = 0;
  while (k < bounds.lower.length && score >= bounds.lower[k]!) k++;
  return k;
}

export function shardCount(bounds: ShardBounds): number {
  return bounds.lower.length + 1;
}

/** SHARDING and SHARD_BOUNDS from the environment: null without sharding; a ConfigError for a bad value. */
export function shardingFromEnv(env: NodeJS.ProcessEnv): ShardBounds | null {
  const mode = env['SHARDING']?.trim() || 'none';
  if (mode === 'none') return null;
  if (mode !== 'score-range') throw new ConfigError('SHARDING must be none or score-range');
  const raw = env['SHARD_BOUNDS']?.trim() ?? '';
  const lower = raw.split(',').map((s) => Number(s.trim()));
  if (!raw || lower.some((n) => !Number.isSafeInteger(n) || n < 1))
    throw new ConfigError(
      'SHARD_BOUNDS must be positive integers separated by commas (the lowest score of shards 2..n)',
    );
  if (lower.some((n, i) => i > 0 && n <= lower[i - 1]!))
    throw new ConfigError('SHARD_BOUNDS must be strictly ascending');
  if (lower.length > 63) throw new ConfigError('SHARD_BOUNDS makes at most 64 shards');
  return { lower };
}
