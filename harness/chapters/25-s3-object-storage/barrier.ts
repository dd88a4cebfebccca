// A barrier for requests held at their last byte (RecordingHandler.holdLastByte): each waits until `n` have arrived,
// then all are released in one turn of the event loop, so that the target receives their bodies whole together.

export function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  return () => {
    arrived += 1;
    if (arrived === n) release();
    return released;
  };
}
