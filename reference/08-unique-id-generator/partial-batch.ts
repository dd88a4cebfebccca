// MUTANT batch-partial-on-refusal (found by a blind bug, fixtures/blind-bugs/08-unique-id-generator): a batch cut
// short by a clock step back answers the IDs made so far as a 200, fewer than `count`, instead of refusing the whole
// batch. Kept out of snowflake.ts so that the generator's own lines (keyed in mutate-equivalent.yaml) stay put.
import { ClockMovedBackwards, Snowflake } from './snowflake.ts';

export class PartialBatchSnowflake extends Snowflake {
  override nextBatch(count: number): string[] {
    const ids: string[] = [];
    try {
      for (let i = 0; i < count; i++) ids.push(this.next());
    } catch (error) {
      // The clock stepped back mid-batch: hand out what was made (those IDs are used up either way).
      if (!(error instanceof ClockMovedBackwards) || ids.length === 0) throw error;
    }
    return ids;
  }
}
