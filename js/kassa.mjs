// kassa.mjs: a client of kassad's POS API for web and Electron POS apps.
//
//   import { connect } from "./kassa.mjs";
//   const kassa = await connect({ token });
//   const { code } = await kassa.scanPaymentCode({ amount: 1250, currency: "EUR" });
//
// One connection is one caller: a checkout it begins is its own, its code
// and events come to it alone, and closing the connection (or the tab)
// cancels it. Errors are KassaError, named as on D-Bus
// ("org.kassa.Error.Busy"). The messages are in docs/pos-api.md.
// No dependencies; runs in browsers, Electron and Node 22 or later (Node
// 20: pass a WebSocket implementation as `WebSocket`).

/** Where kassad's POS API listens unless `listen` in [pos_api] says otherwise. */
export const DEFAULT_URL = "ws://127.0.0.1:8766/v1";

/** An error kassad answered, or the connection's loss. */
export class KassaError extends Error {
  constructor(name, message) {
    super(message);
    /** "org.kassa.Error.Busy", …; "kassa.Disconnected" when the connection closed. */
    this.name = name;
  }
}

const DISCONNECTED = "kassa.Disconnected";

/** Opens a connection. Rejects with KassaError(kassa.Disconnected) if kassad refuses it. */
export function connect({ token, url = DEFAULT_URL, WebSocket: Socket = globalThis.WebSocket } = {}) {
  if (typeof token !== "string" || token.length === 0) {
    return Promise.reject(new TypeError("connect: token is the content of [pos_api] token_file"));
  }
  return new Promise((resolve, reject) => {
    const address = new URL(url);
    address.searchParams.set("token", token);
    const socket = new Socket(address.href);
    socket.onopen = () => resolve(new Kassa(socket));
    socket.onerror = () => {};
    socket.onclose = (event) =>
      reject(new KassaError(DISCONNECTED,
        `kassad refused the connection (close code ${event.code}): check the token, ` +
        "and that this page's origin is in allowed_origins of [pos_api]"));
  });
}

/** A connection to kassad. */
export class Kassa {
  #socket;
  #next = 1;
  #pending = new Map();
  #checkouts = new Map();
  #claims = new Map();
  #listeners = new Map();

  constructor(socket) {
    this.#socket = socket;
    socket.onmessage = (event) => this.#receive(JSON.parse(event.data));
    socket.onclose = () => this.#closed();
  }

  /** Calls a method of the API by name; resolves with its result. */
  call(method, params = {}) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (this.#socket.readyState !== 1) {
        reject(new KassaError(DISCONNECTED, "the connection to kassad is closed"));
        return;
      }
      // A string cut inside a character (a lone surrogate) is not JSON
      // kassad reads: send U+FFFD in its place.
      const text = JSON.stringify({ id, method, params }, (_, v) =>
        typeof v === "string" && v.toWellFormed ? v.toWellFormed() : v);
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(text);
    });
  }

  /** One payment code: { code, channel, source }. */
  scanPaymentCode(options = {}) {
    return this.call("ScanPaymentCode", { options });
  }

  /** Begins a checkout; resolves once it is this connection's. */
  async beginCheckout(options = {}) {
    const { checkout } = await this.call("BeginCheckout", { options });
    return this.#checkouts.get(checkout);
  }

  /** Shows an order document (an object). */
  showOrder(order) {
    return this.call("ShowOrder", { order });
  }

  /** Asks the backend for the order bound to `code` and shows it: { order }. */
  showOrderForCode(code, options = {}) {
    return this.call("ShowOrderForCode", { code, options });
  }

  /** Shows "paid", "failed" or "cancelled" with a message. */
  showPaymentResult(status, message = "") {
    return this.call("ShowPaymentResult", { status, message });
  }

  /** Shows lines of text. */
  showText(lines) {
    return this.call("ShowText", { lines });
  }

  /** Shows the idle screen. */
  clearDisplay() {
    return this.call("ClearDisplay");
  }

  /** Takes every scan until released; resolves with the Claim. */
  async claimScanner(options = {}) {
    const { claim } = await this.call("ClaimScanner", { options });
    return this.#claims.get(claim);
  }

  /** kassad's version, state and devices. */
  getTerminal() {
    return this.call("GetTerminal");
  }

  /** Listens for "TerminalState", "DeviceStatus" or "close". */
  on(event, listener) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, []);
    this.#listeners.get(event).push(listener);
    return this;
  }

  /** Closes the connection, which cancels whatever it started. */
  close() {
    this.#socket.close(1000);
  }

  _forget(claim) {
    this.#claims.delete(claim);
  }

  #emit(event, value) {
    for (const listener of this.#listeners.get(event) ?? []) listener(value);
  }

  #receive(message) {
    if (message.event === undefined) {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (message.error) {
        pending.reject(new KassaError(message.error.name, message.error.message));
        return;
      }
      // A checkout's or claim's answer comes before its first event.
      const result = message.result;
      if (result?.checkout !== undefined && !this.#checkouts.has(result.checkout)) {
        this.#checkouts.set(result.checkout, new Checkout(this, result.checkout));
      } else if (result?.claim !== undefined && !this.#claims.has(result.claim)) {
        this.#claims.set(result.claim, new Claim(this, result.claim));
      }
      pending.resolve(result);
    } else if (message.checkout !== undefined) {
      const checkout = this.#checkouts.get(message.checkout);
      checkout?._event(message);
      if (message.event === "Finished") this.#checkouts.delete(message.checkout);
    } else if (message.claim !== undefined) {
      this.#claims.get(message.claim)?._event(message);
    } else {
      this.#emit(message.event, message);
    }
  }

  #closed() {
    const lost = new KassaError(DISCONNECTED, "the connection to kassad closed");
    for (const { reject } of this.#pending.values()) reject(lost);
    this.#pending.clear();
    for (const checkout of this.#checkouts.values()) checkout._lost(lost);
    this.#checkouts.clear();
    this.#claims.clear();
    this.#emit("close", lost);
  }
}

function settle() {
  let resolve;
  let reject;
  const promise = new Promise((yes, no) => {
    resolve = yes;
    reject = no;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** A checkout this connection began. */
export class Checkout {
  #kassa;
  #code = settle();
  #order = settle();
  #finished = settle();
  #listeners = [];

  constructor(kassa, id) {
    this.#kassa = kassa;
    /** The checkout's id. */
    this.id = id;
    /** "waiting_for_code", …, the last state kassad sent. */
    this.state = "waiting_for_code";
  }

  /** The payment code: { code, channel, source }. Never missed: events queue until asked for. */
  code() {
    return this.#code.promise;
  }

  /** The order shown for the code (bound at the backend, or from showOrder). */
  order() {
    return this.#order.promise;
  }

  /** Resolves with { state, message } when the checkout ends. */
  get finished() {
    return this.#finished.promise;
  }

  /** Listens for every event: CodeScanned, OrderShown, CheckoutState, Finished. */
  on(listener) {
    this.#listeners.push(listener);
    return this;
  }

  /** Ends it with "paid", "failed" or "cancelled" and a message. */
  finish(status, message = "") {
    return this.#kassa.call("Finish", { checkout: this.id, status, message });
  }

  /** Cancels it. */
  cancel() {
    return this.#kassa.call("Cancel", { checkout: this.id });
  }

  /** The code once more from kassad, as D-Bus clients ask for it. */
  takeCode() {
    return this.#kassa.call("TakeCode", { checkout: this.id });
  }

  _event(message) {
    if (message.event === "CodeScanned") {
      const { code, channel, source } = message;
      this.#code.resolve({ code, channel, source });
    } else if (message.event === "OrderShown") {
      this.#order.resolve(message.order);
    } else if (message.event === "CheckoutState") {
      this.state = message.state;
    } else if (message.event === "Finished") {
      this.state = message.state;
      const ended = new KassaError(
        message.state === "expired" ? "org.kassa.Error.Timeout" : "org.kassa.Error.Cancelled",
        message.message);
      this.#code.reject(ended);
      this.#order.reject(ended);
      this.#finished.resolve({ state: message.state, message: message.message });
    }
    for (const listener of this.#listeners) listener(message);
  }

  _lost(error) {
    this.#code.reject(error);
    this.#order.reject(error);
    this.#finished.reject(error);
  }
}

/** A claim on the scanner: every scan comes here until released. */
export class Claim {
  #kassa;
  #listeners = [];

  constructor(kassa, id) {
    this.#kassa = kassa;
    /** The claim's id. */
    this.id = id;
  }

  /** Listens for scans: { data, symbology, source }. */
  onScan(listener) {
    this.#listeners.push(listener);
    return this;
  }

  /** Ends the claim. */
  release() {
    return this.#kassa.call("Release", { claim: this.id }).then((result) => {
      this.#kassa._forget(this.id);
      return result;
    });
  }

  /** Takes scans again after one (with auto_disable). */
  enable() {
    return this.#kassa.call("Enable", { claim: this.id });
  }

  _event(message) {
    const { data, symbology, source } = message;
    for (const listener of this.#listeners) listener({ data, symbology, source });
  }
}
