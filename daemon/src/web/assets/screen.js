// The kassa customer screen: shows each view kassad pushes over
// server-sent events. Text goes in through textContent only; the one piece
// of markup is the QR code's SVG, which kassad draws itself. The fixed
// strings, in the screen's languages, come with the page (#strings);
// amounts come formatted for the first language in each view.
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

const STRINGS = JSON.parse($("strings").textContent);

// Puts the string `key` in `e`: in the first language, and for a headline
// also in the second, each marked with its language (which picks the
// Chinese or Japanese forms of Han characters).
function say(e, key) {
  const parts = [];
  (STRINGS.t[key] || []).forEach((text, i) => {
    if (i > 0) parts.push(" · ");
    const span = el("span", text);
    span.lang = i === 0 ? STRINGS.lang : STRINGS.second;
    parts.push(span);
  });
  e.replaceChildren(...parts);
}

for (const e of document.querySelectorAll("[data-t]")) say(e, e.dataset.t);

// An amount is never cut or wrapped: if it is wider than its box (a large
// total on a narrow screen), its font shrinks until it fits.
function fit(e) {
  e.style.removeProperty("font-size");
  let size = parseFloat(getComputedStyle(e).fontSize);
  const floor = size / 4;
  while (e.scrollWidth > e.clientWidth + 1 && size > floor) {
    size *= 0.9;
    e.style.fontSize = size + "px";
  }
}

// Likewise the order's table: the Price and Amount columns stay in view.
function fitTable() {
  const scroller = $("order-scroll");
  const table = scroller.querySelector("table");
  table.style.removeProperty("font-size");
  let size = parseFloat(getComputedStyle(table).fontSize);
  const floor = size / 3;
  while (scroller.scrollWidth > scroller.clientWidth + 1 && size > floor) {
    size *= 0.9;
    table.style.fontSize = size + "px";
  }
}

function fitView() {
  const view = document.body.dataset.view;
  const section = $(view);
  if (!section) return;
  if (view === "order") fitTable();
  for (const e of section.querySelectorAll(".fit")) fit(e);
  if (view === "order") {
    // The latest line stays in view; the total is outside the scroller.
    const scroller = $("order-scroll");
    scroller.scrollTop = scroller.scrollHeight;
  }
}

window.addEventListener("resize", fitView);

const MARKS = { paid: "✓", failed: "✕", cancelled: "✕" };

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
    $("order-count").textContent = v.count_text || "";
    $("order-lines").replaceChildren(...v.lines.map((line) => {
      const tr = el("tr");
      const name = el("td", line.name, "name");
      if (line.unit) name.append(el("span", line.unit, "unit"));
      tr.append(name, el("td", line.quantity, "qty"), el("td", line.unit_price, "price"),
        el("td", line.total, "total"));
      return tr;
    }));
    const adjustments = [];
    if (v.discount) adjustments.push(["discount", v.discount]);
    if (v.tax) adjustments.push(["tax", v.tax]);
    $("order-adjustments").replaceChildren(...adjustments.map(([label, amount]) => {
      const row = el("div");
      const name = el("span");
      say(name, label);
      row.append(name, el("span", amount, "amount-small"));
      return row;
    }));
    $("order-note").hidden = !v.note;
    $("order-note-text").textContent = v.note || "";
    $("order-total").textContent = v.total;
    const qr = $("order-qr");
    qr.hidden = !v.qr;
    qr.querySelector(".qr").innerHTML = v.qr || "";
  },
  qr(v) {
    $("qr-code").innerHTML = v.qr || "";
    $("qr-amount").textContent = v.amount || "";
  },
  result(v) {
    const status = MARKS[v.status] ? v.status : "failed";
    $("result").dataset.status = status;
    $("result-mark").textContent = MARKS[status];
    say($("result-title"), status);
    $("result-message").textContent = v.message;
  },
};

function show(v) {
  const render = renderers[v.view];
  if (!render) return;
  document.body.dataset.view = v.view;
  render(v);
  fitView();
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
