// The chapter's values, as the spec names them.
export type Side = 'buy' | 'sell';
export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'canceled';

export interface Order {
  id: number;
  clientOrderId: string | null;
  userId: string;
  symbol: string;
  side: Side;
  price: number;
  orderType: 'limit';
  quantity: number;
  filledQuantity: number;
  remainingQuantity: number;
  status: OrderStatus;
  creationTime: number;
  sequenceId: number;
}

/** Inbound events: what the sequencer stamps and the log keeps; replaying them rebuilds every state. */
export type InboundEvent =
  | { sequenceId: number; type: 'deposit'; time: number; userId: string; asset: string; amount: number }
  | {
      sequenceId: number;
      type: 'new';
      time: number;
      orderId: number;
      userId: string;
      clientOrderId?: string;
      symbol: string;
      side: Side;
      price: number;
      quantity: number;
    }
  | { sequenceId: number; type: 'cancel'; time: number; orderId: number };

/** The outbound event of one match. */
export interface FillEvent {
  sequenceId: number;
  type: 'fill';
  time: number;
  symbol: string;
  price: number;
  quantity: number;
  makerOrderId: number;
  takerOrderId: number;
}

export type LogEvent = InboundEvent | FillEvent;
