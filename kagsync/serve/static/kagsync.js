// kagsync serve: live updates, countdowns and projector mode. Hand-written, no build
// step, no library. It never builds markup from data: fresh parts of the page come as
// server-rendered (escaped) HTML, parsed by DOMParser and moved in by id.
"use strict";

(function () {
  const body = document.body;
  const state = document.getElementById("live-state");
  let busy = false;
  let again = false;

  function setState(on, text) {
    if (!state) return;
    state.className = "live-state " + (on ? "on" : "off");
    state.textContent = text;
  }

  // Ranks shown now, by row key, in the live parts of the page.
  function ranks(root) {
    const out = new Map();
    root.querySelectorAll("[data-live] tr[data-key]").forEach(function (row) {
      out.set(row.getAttribute("data-key"), row.getAttribute("data-rank"));
    });
    return out;
  }

  const flashUntil = new Map();  // row key -> when its highlight ends (ms)

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const before = ranks(document);
      fresh.querySelectorAll("[data-live][id]").forEach(function (part) {
        const current = document.getElementById(part.id);
        if (current) current.replaceWith(document.adoptNode(part));
      });
      const now = Date.now();
      document.querySelectorAll("[data-live] tr[data-key]").forEach(function (row) {
        const key = row.getAttribute("data-key");
        if (before.size && before.get(key) !== row.getAttribute("data-rank")) flashUntil.set(key, now + 3200);
        // A second update soon after the first (another commit) replaces the rows:
        // a highlight still running carries over to the new row.
        const until = flashUntil.get(key) || 0;
        if (until > now) {
          row.classList.add("flash");
          window.setTimeout(function () { row.classList.remove("flash"); }, until - now);
        }
      });
      tick();
      setState(true, "live · updated " + new Date().toLocaleTimeString());
    } catch (error) {
      setState(false, "live updates paused");
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function listen() {
    const url = body.getAttribute("data-live-url");
    if (!url || !window.EventSource) return;
    let seen = null;
    const source = new EventSource(url);
    source.addEventListener("version", function (event) {
      if (seen !== null && event.data !== seen) refresh();
      seen = event.data;
      setState(true, "live");
    });
    source.onerror = function () { setState(false, "reconnecting…"); };
  }

  // Countdowns to each deadline, once a second.
  function two(n) { return String(n).padStart(2, "0"); }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      const at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      const label = el.getAttribute("data-label") || "ends";
      let left = Math.floor((at - now) / 1000);
      if (left <= 0) { el.textContent = label === "ends" ? "ended" : label + " passed"; return; }
      const days = Math.floor(left / 86400); left %= 86400;
      const text = two(Math.floor(left / 3600)) + ":" + two(Math.floor((left % 3600) / 60)) + ":" + two(left % 60);
      el.textContent = label + " in " + (days ? days + "d " : "") + text;
    });
  }

  // Projector: slow scroll down long tables, pause, then the next page of the cycle.
  function projector() {
    if (!body.classList.contains("projector")) return;
    const button = document.getElementById("fullscreen");
    if (button && document.documentElement.requestFullscreen) {
      button.addEventListener("click", function () { document.documentElement.requestFullscreen().catch(function () {}); });
    }
    const next = body.getAttribute("data-next");
    let pauseUntil = Date.now() + 5000;
    window.setInterval(function () {
      if (Date.now() < pauseUntil) return;
      const bottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2;
      if (bottom) {
        pauseUntil = Date.now() + 6000;
        window.setTimeout(function () {
          if (next) window.location.assign(next);
          else window.scrollTo(0, 0);
        }, 5000);
        return;
      }
      window.scrollBy(0, 1);
    }, 40);
  }

  tick();
  window.setInterval(tick, 1000);
  listen();
  projector();
})();
