// The kassa customer screen: shows each view kassad pushes over
// server-sent events. Text goes in through textContent only; the one piece
// of markup is the QR code's SVG, which kassad draws itself.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const query = token ? "?token=" + encodeURIComponent(token) : "";
const $ = (id) => document.getElementById(id);

// When each view was put on screen, for the benchmark and the tests.
window.kassaRenders = [];

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const TITLES = {
  paid: ["✓", "Paid · 支付成功"],
  failed: ["✕", "Payment failed · 支付失败"],
  cancelled: ["✕", "Cancelled · 已取消"],
};

const renderers = {
  idle(v) {
    $("merchant").textContent = v.merchant || "";
    const logo = $("logo");
    logo.hidden = !v.logo;
    if (v.logo) logo.src = "/logo" + query;
  },
  text(v) {
    $("text-lines").replaceChildren(...v.lines.map((l) => el("div", l)));
  },
  prompt(v) {
    $("prompt-text").textContent = v.text;
    $("prompt-amount").textContent = v.amount || "";
  },
  order(v) {
    $("order-merchant").textContent = v.merchant || "";
    $("order-count").textContent = v.count + (v.count === 1 ? " item" : " items");
    $("order-lines").replaceChildren(...v.lines.map((line) => {
      const tr = el("tr");
      const name = el("td", line.name, "name");
      if (line.unit) name.append(el("span", line.unit, "unit"));
      tr.append(name, el("td", line.quantity, "qty"), el("td", line.unit_price, "price"),
        el("td", line.total, "total"));
      return tr;
    }));
    const adjustments = [];
    if (v.discount) adjustments.push(["Discount", v.discount]);
    if (v.tax) adjustments.push(["Tax", v.tax]);
    $("order-adjustments").replaceChildren(...adjustments.map(([label, amount]) => {
      const row = el("div");
      row.append(el("span", label), el("span", amount));
      return row;
    }));
    $("order-total").textContent = v.total;
    const qr = $("order-qr");
    qr.hidden = !v.qr;
    qr.querySelector(".qr").innerHTML = v.qr || "";
    // The latest line stays in view; the total is outside the scroller.
    const scroller = $("order-scroll");
    scroller.scrollTop = scroller.scrollHeight;
  },
  qr(v) {
    $("qr-code").innerHTML = v.qr || "";
    $("qr-amount").textContent = v.amount || "";
  },
  result(v) {
    const [mark, title] = TITLES[v.status] || TITLES.failed;
    $("result").dataset.status = v.status;
    $("result-mark").textContent = mark;
    $("result-title").textContent = title;
    $("result-message").textContent = v.message;
  },
};

function show(v) {
  const render = renderers[v.view];
  if (!render) return;
  document.body.dataset.view = v.view;
  render(v);
  document.body.dataset.seq = v.seq;
  window.kassaRenders.push({ seq: v.seq, at: performance.timeOrigin + performance.now() });
  if (window.kassaRenders.length > 512) window.kassaRenders.shift();
}

function connect() {
  const source = new EventSource("/events" + query);
  source.addEventListener("view", (e) => show(JSON.parse(e.data)));
  source.onopen = () => document.body.classList.remove("offline");
  source.onerror = () => {
    document.body.classList.add("offline");
    // The browser retries by itself unless the server refused us outright.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  };
}

connect();
