// What the desktop and the console share: the login form, the session, the WebSocket that
// reconnects, a banner, and building elements (text only: nothing from a list or the engine is
// ever parsed as HTML).
import { t } from "./strings.js";

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const $ = (id) => document.getElementById(id);

export function banner(text, kind = "info") {
  const b = $("banner");
  b.textContent = text || "";
  b.className = text ? `banner ${kind}` : "banner hidden";
}

export async function api(path, body) {
  const r = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await r.json(); } catch (e) { /* no body */ }
  return { status: r.status, data };
}

// The login form: resolves with the session once the engine accepted the password.
export function showLogin(role, message, onSession) {
  $("app").classList.add("hidden");
  const box = $("login");
  box.classList.remove("hidden");
  $("login-message").textContent = message || "";
  const form = $("login-form");
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const button = $("login-button");
    button.disabled = true;
    $("login-message").textContent = t("login_checking");
    const body = { agent: $("login-agent").value.trim(), password: $("login-password").value, role };
    const phone = $("login-phone");
    if (phone && phone.value.trim()) body.phone = phone.value.trim();
    const { status, data } = await api("/api/login", body).catch(() => ({ status: 0, data: {} }));
    button.disabled = false;
    $("login-password").value = "";
    if (status === 200) {
      $("login-message").textContent = "";
      box.classList.add("hidden");
      $("app").classList.remove("hidden");
      onSession(data);
    } else {
      $("login-message").textContent = t("error", { reason: data.error || `HTTP ${status}` });
    }
  };
  $("login-agent").focus();
}

// The session's WebSocket (an agent's or a supervisor's: `role`; each has its own cookie, so one
// browser may hold both). `onMessage(m)` for every message; reconnects with a growing wait
// and says so; stops for good when the session ended or moved to another tab.
export function connect(role, onMessage, onEnded) {
  let ws = null, wait = 500, stopped = false, lost = false;
  const open = () => {
    if (stopped) return;
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws?role=${role}`);
    ws.onopen = () => {
      wait = 500;
      if (lost) banner(t("reconnected"), "ok");
      lost = false;
    };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === "session_ended") { stopped = true; onEnded(t("session_ended", { reason: m.reason })); return; }
      if (m.type === "session_moved") { stopped = true; onEnded(t("session_moved"), true); return; }
      onMessage(m);
    };
    ws.onclose = async () => {
      if (stopped) return;
      lost = true;
      banner(t("reconnecting"), "warn");
      // Is the session still there? (The gateway restarted: it is not.)
      const { status, data } = await api(`/api/session?role=${role}`).catch(() => ({ status: 0, data: {} }));
      if (status === 401) { stopped = true; onEnded(t("session_ended", { reason: data.error || "" })); return; }
      setTimeout(open, wait);
      wait = Math.min(wait * 2, 5000);
    };
  };
  open();
  return {
    send(m) { if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(m)); return true; } return false; },
    close() { stopped = true; if (ws) ws.close(); },
  };
}

export function fmtDuration(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), rr = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${rr}` : `${mm}:${rr}`;
}

// A wall time "YYYY-MM-DDTHH:MM" in IANA `zone` as unix seconds (the zone's offset at that
// time, from the browser's own zone data).
export function zonedToUnix(local, zone) {
  const [d, tm] = local.split("T");
  const [y, mo, da] = d.split("-").map(Number);
  const [h, mi] = tm.split(":").map(Number);
  const asUtc = Date.UTC(y, mo - 1, da, h, mi);
  const offsetAt = (ms) => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
    const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    return wall - ms;
  };
  let utc = asUtc - offsetAt(asUtc);
  utc = asUtc - offsetAt(utc);  // once more across a change of offset
  return Math.round(utc / 1000);
}
