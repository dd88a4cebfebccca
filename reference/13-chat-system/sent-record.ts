// What one connection has been sent, per channel, as ranges of message IDs ("never a message twice on one
// connection"). A set, not the highest ID sent: a device that got live messages and then syncs from below them must
// still get the older ones (a highest-ID mark would drop them as "already sent").
// Live delivery and sync answers come in contiguous runs, so a channel usually holds one range; only a sync past
// messages this connection never had leaves a gap. Bounded: past MAX_RANGES_PER_CHANNEL the lowest range is
// forgotten, so a later sync from below it may repeat those messages (a repeat, never a loss).
export const MAX_RANGES_PER_CHANNEL = 16;

export class SentRecord {
  /** channelId -> ranges [first, last], sorted, disjoint and not adjacent. */
  private readonly ranges = new Map<string, [number, number][]>();

  has(channelId: string, id: number): boolean {
    return (this.ranges.get(channelId) ?? []).some(([a, b]) => a <= id && id <= b);
  }

  add(channelId: string, id: number): void {
    let rs = this.ranges.get(channelId);
    if (!rs) {
      rs = [];
      this.ranges.set(channelId, rs);
    }
    // Live delivery appends above the top range: look from the top.
    let i = rs.length;
    while (i > 0 && rs[i - 1]![0] > id) i--;
    const below = rs[i - 1];
    if (below && id <= below[1]) return; // already there
    const above = rs[i];
    const joinsBelow = below !== undefined && below[1] === id - 1;
    const joinsAbove = above !== undefined && above[0] === id + 1;
    if (joinsBelow && joinsAbove) rs.splice(i - 1, 2, [below[0], above[1]]);
    else if (joinsBelow) below[1] = id;
    else if (joinsAbove) above[0] = id;
    else {
      rs.splice(i, 0, [id, id]);
      if (rs.length > MAX_RANGES_PER_CHANNEL) rs.shift();
    }
  }
}
