// How a wrong click count is named in URL-F5's failures: which way it is off says what went wrong (ci41's reference
// failure read more clicks than were made and was called "fewer").

/** "8 (4 more than made: ...)" or "2 (2 fewer ...)": the count shown and the cause its direction points at. */
export function clicksShown(shown: number, made: number): string {
  if (shown > made) {
    return `${shown} (${shown - made} more than counted: clicks counted twice, a write retried after it had landed)`;
  }
  if (shown < made) {
    return `${shown} (${made - shown} fewer than counted: clicks lost, or missed by a read answered while they were being written)`;
  }
  return String(shown);
}
