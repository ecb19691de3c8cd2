// Types of kassa.mjs, kassad's POS API client. docs/pos-api.md has the
// messages and their rules.

/** Where kassad's POS API listens unless `listen` in [pos_api] says otherwise. */
export const DEFAULT_URL: string;

/** The names kassad answers with, as on D-Bus, and the connection's loss. */
export type ErrorName =
  | "org.kassa.Error.Timeout"
  | "org.kassa.Error.Cancelled"
  | "org.kassa.Error.Busy"
  | "org.kassa.Error.InvalidOrder"
  | "org.kassa.Error.InvalidArgument"
  | "org.kassa.Error.NoDevice"
  | "org.kassa.Error.Backend"
  | "org.kassa.Error.NotBound"
  | "org.kassa.Error.AccessDenied"
  | "kassa.Disconnected";

export class KassaError extends Error {
  name: ErrorName;
}

export type Source = "serial" | "wedge" | "hidpos" | "camera" | "face" | "mock";

/** Options of ScanPaymentCode and BeginCheckout. Amounts are in minor units. */
export interface CheckoutOptions {
  timeout_ms?: number;
  prompt?: string;
  amount?: number;
  currency?: string;
  sources?: Source[];
  /** BeginCheckout only. */
  order_timeout_ms?: number;
}

export interface ClaimOptions {
  auto_disable?: boolean;
  sources?: Source[];
}

export interface PaymentCode {
  /** A bearer secret worth money: never log it whole. */
  code: string;
  /** "wechat", "alipay", "unionpay", … */
  channel: string;
  source: Source;
}

export type PaymentStatus = "paid" | "failed" | "cancelled";

export type CheckoutState =
  | "waiting_for_code"
  | "waiting_for_order"
  | "showing_order"
  | "paid"
  | "failed"
  | "cancelled"
  | "expired";

export type TerminalState =
  | "idle"
  | "scanning"
  | "waiting_for_order"
  | "showing_order"
  | "showing_result";

/** An order document: docs/order-schema.md. */
export type Order = Record<string, unknown>;

export interface Device {
  name: string;
  role: "scanner" | "display" | "camera";
  driver: string;
  path: string;
  connected: boolean;
  last_error: string;
  scan_count: number;
  dropped_count: number;
}

export interface Terminal {
  version: string;
  state: TerminalState;
  devices: Device[];
}

export type CheckoutEvent =
  | ({ event: "CodeScanned"; checkout: number } & PaymentCode)
  | { event: "OrderShown"; checkout: number; order: Order }
  | { event: "CheckoutState"; checkout: number; state: CheckoutState; channel: string }
  | { event: "Finished"; checkout: number; state: CheckoutState; message: string };

export interface Scan {
  data: string;
  symbology: string;
  source: Source;
}

export interface ConnectOptions {
  /** The content of [pos_api] token_file. */
  token: string;
  /** DEFAULT_URL unless kassad listens elsewhere. */
  url?: string;
  /** A WebSocket implementation where there is no global one (Node 20). */
  WebSocket?: unknown;
}

/** Opens a connection; rejects with KassaError("kassa.Disconnected") if refused. */
export function connect(options: ConnectOptions): Promise<Kassa>;

export class Kassa {
  call(method: string, params?: Record<string, unknown>): Promise<any>;
  scanPaymentCode(options?: CheckoutOptions): Promise<PaymentCode>;
  beginCheckout(options?: CheckoutOptions): Promise<Checkout>;
  showOrder(order: Order): Promise<null>;
  showOrderForCode(code: string, options?: { timeout_ms?: number }): Promise<{ order: Order }>;
  showPaymentResult(status: PaymentStatus, message?: string): Promise<null>;
  showText(lines: string[]): Promise<null>;
  clearDisplay(): Promise<null>;
  claimScanner(options?: ClaimOptions): Promise<Claim>;
  getTerminal(): Promise<Terminal>;
  on(event: "TerminalState", listener: (e: { event: "TerminalState"; state: TerminalState }) => void): this;
  on(event: "DeviceStatus", listener: (e: { event: "DeviceStatus"; device: Device }) => void): this;
  on(event: "close", listener: (error: KassaError) => void): this;
  /** Closes the connection, which cancels whatever it started. */
  close(): void;
}

export class Checkout {
  readonly id: number;
  /** The last state kassad sent. */
  readonly state: CheckoutState;
  /** The payment code; never missed, however late it is asked for. */
  code(): Promise<PaymentCode>;
  /** The order shown for the code (bound at the backend, or from showOrder). */
  order(): Promise<Order>;
  readonly finished: Promise<{ state: CheckoutState; message: string }>;
  on(listener: (event: CheckoutEvent) => void): this;
  finish(status: PaymentStatus, message?: string): Promise<null>;
  cancel(): Promise<null>;
  takeCode(): Promise<PaymentCode>;
}

export class Claim {
  readonly id: number;
  onScan(listener: (scan: Scan) => void): this;
  release(): Promise<null>;
  enable(): Promise<null>;
}
