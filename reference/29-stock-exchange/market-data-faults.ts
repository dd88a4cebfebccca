// Three of the chapter's mutants of the market-data stream's derived frames (l1, candles), kept outside the publisher so its code is the
// one the blind bugs were written against: the publisher as the WebSocket sees it, with one fault each.
import type { L1Frame, MarketDataFrame, MarketDataPublisher, Send } from './market-data.ts';

export interface L1Faults {
  /** MUTANT md-l1-first-top-cached: a new l1 subscriber's first frame is the top of the last l1 frame sent. */
  firstTopCached?: boolean;
  /** MUTANT md-l1-before-update: an l1 frame goes out before the l2update that changed the top. */
  beforeUpdate?: boolean;
  /**
   * MUTANT md-derived-blank-after-start: the top and the last candle a new subscriber gets are rebuilt from live
   * events only: for a symbol no subscriber has had a frame of since the start (a recovery replayed its log), the
   * first l1 frame is an empty top and no candle comes.
   */
  blankAfterStart?: boolean;
}

export function withL1Faults(publisher: MarketDataPublisher, f: L1Faults): MarketDataPublisher {
  if (!f.firstTopCached && !f.beforeUpdate && !f.blankAfterStart) return publisher;
  const live = new Set<string>(); // MUTANT md-derived-blank-after-start: symbols with a frame sent since the start
  // MUTANT md-l1-first-top-cached: the last l1 frame any subscriber got, per symbol (none: the top is empty).
  const lastSent = new Map<string, L1Frame>();
  const faulty = Object.create(publisher) as MarketDataPublisher;
  faulty.firstFrames = (symbol, sub) =>
    publisher
      .firstFrames(symbol, sub)
      .filter((frame) => !(f.blankAfterStart && !live.has(symbol) && frame.type === 'candle'))
      .map((frame) => {
        if (f.blankAfterStart && !live.has(symbol) && frame.type === 'l1') return { ...frame, bid: null, ask: null };
        if (!f.firstTopCached || frame.type !== 'l1') return frame;
        const cached = lastSent.get(symbol);
        return { ...frame, bid: cached?.bid ?? null, ask: cached?.ask ?? null };
      });
  faulty.subscribe = (symbol, send, sub) => publisher.subscribe(symbol, faultySend(symbol, send), sub);
  return faulty;

  function faultySend(symbol: string, send: Send): Send {
    // MUTANT md-l1-before-update: an l2update is held until the l1 frame after it (or the end of the step) is sent.
    let held: MarketDataFrame | undefined;
    const flush = () => {
      const h = held;
      held = undefined;
      if (h) send(h);
    };
    return (frame) => {
      if (frame.type === 'l1') lastSent.set(symbol, frame);
      if (frame.type === 'trade' || frame.type === 'l2update') live.add(symbol);
      if (!f.beforeUpdate) return send(frame);
      if (frame.type === 'l2update') {
        flush();
        held = frame;
        queueMicrotask(flush);
        return;
      }
      if (frame.type !== 'l1') flush();
      send(frame);
      flush();
    };
  }
}
