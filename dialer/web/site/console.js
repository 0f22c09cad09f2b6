// The supervisor console: the floor (the engine's status every second) and the engine's events
// as they happen, pushed by the gateway; campaign pause/resume and messages to agents.
import { S, t } from "./strings.js";
import { $, el, api, banner, connect, showLogin, fmtDuration } from "./common.js";

const board = { agents: new Map(), campaigns: [], prev: null, up: true, link: null };
window.outpace = { states: [] };  // for tests: when each agent state reached the page

function fillStrings() {
  document.title = S.app_supervisor;
  $("login-title").textContent = S.app_supervisor;
  for (const e of document.querySelectorAll("[data-s]")) e.textContent = S[e.dataset.s];
}

const pct = (x) => `${(100 * x).toFixed(1)} %`;

// Rows are kept and their cells rewritten, so a button is never replaced under the pointer.
function syncRows(tbody, key, items, cells) {
  const rows = new Map([...tbody.rows].map((r) => [r.dataset[key], r]));
  items.forEach((item, i) => {
    const id = item[key];
    let row = rows.get(id);
    const fresh = cells(item);
    if (!row || row.cells.length !== fresh.length) {
      const made = el("tr", { [`data-${key}`]: id }, fresh);
      if (row) row.replaceWith(made); else tbody.append(made);
      row = made;
    } else {
      fresh.forEach((td, k) => {
        const old = row.cells[k];
        if (old.querySelector("button")) return;  // the actions stay as they are
        if (old.textContent !== td.textContent || old.className !== td.className) old.replaceWith(td);
      });
    }
    for (const [k, v] of Object.entries(item._attrs || {})) row.dataset[k] = v;
    if (tbody.rows[i] !== row) tbody.insertBefore(row, tbody.rows[i] || null);
    rows.delete(id);
  });
  for (const r of rows.values()) r.remove();
}

function renderCampaigns() {
  syncRows($("campaigns").tBodies[0], "campaign", board.campaigns, (c) => {
    const a = c.agents || {};
    const live = c.window_live || 0, ab = c.window_abandoned || 0;
    const rate = live ? ab / live : 0;
    const over = c.max_abandon_rate && rate > c.max_abandon_rate;
    return [
      el("td", {}, c.campaign), el("td", { class: "c-state" }, c.state),
      el("td", {}, (c.dial_rate ?? 0).toFixed(2)), el("td", {}, c.in_progress ?? 0),
      el("td", {}, c.dialled ?? 0),
      el("td", { class: "c-left" }, c.contacts_left >= 0 ? c.contacts_left : "…"),
      el("td", {}, c.dialled ? pct((c.humans || 0) / c.dialled) : "—"),
      el("td", { class: over ? "c-abandon over" : "c-abandon", "data-rate": rate.toFixed(6) },
        `${pct(rate)} (${ab}/${live})`),
      el("td", {}, pct(c.max_abandon_rate || 0)),
      el("td", {}, `${a.ready || 0} / ${a.talking || 0} / ${a.wrapup || 0} / ${a.paused || 0}`),
      el("td", {},
        el("button", { "data-action": "pause", onclick: () => send({ type: "pause_campaign", campaign: c.campaign }) }, S.pause_campaign),
        el("button", { "data-action": "resume", onclick: () => send({ type: "resume_campaign", campaign: c.campaign }) }, S.resume_campaign)),
    ];
  });
  // The recipients: rebuilt only when they change (an open list is not closed under the mouse).
  const to = $("message-to"), keep = to.value;
  const values = ["", ...board.campaigns.map((c) => `campaign:${c.campaign}`),
    ...[...board.agents.keys()].sort().map((id) => `agent:${id}`)];
  if ([...to.options].map((o) => o.value).join("\n") === values.join("\n")) return;
  to.replaceChildren(...values.map((v) => el("option", { value: v },
    v === "" ? S.message_everyone : v.slice(v.indexOf(":") + 1))));
  to.value = keep;
}

function renderAgents() {
  const now = Date.now();
  const list = [...board.agents.values()].sort((a, b) => a.agent.localeCompare(b.agent))
    .map((a) => ({ ...a, _attrs: { state: a.state } }));
  syncRows($("agents").tBodies[0], "agent", list, (a) => [
    el("td", {}, a.name && a.name !== a.agent ? `${a.name} (${a.agent})` : a.agent),
    el("td", { class: "a-state" }, (S[`state_${a.state}`] || a.state) + (a.reason ? ` (${a.reason})` : "")),
    el("td", {}, fmtDuration((now - a.since) / 1000)),
    el("td", {}, a.campaign || ""),
    el("td", {}, a.state === "talking" ? fmtDuration((now - a.since) / 1000) : ""),
    el("td", {}, a.calls ?? 0),
    el("td", {}, pct(a.occupancy || 0)),
  ]);
}

function onFloor(m) {
  if (!m.engine_up) {
    if (board.up) banner(S.engine_down, "warn");
    board.up = false;
    return;
  }
  if (!board.up) banner(S.engine_back, "ok");
  board.up = true;
  const prev = board.prev;
  for (const c of m.campaigns) {
    const p = prev && prev.campaigns.find((x) => x.campaign === c.campaign);
    c.dial_rate = p && m.at_ms > prev.at_ms ? (c.dialled - p.dialled) / ((m.at_ms - prev.at_ms) / 1000) : 0;
  }
  board.prev = { at_ms: m.at_ms, campaigns: m.campaigns };
  board.campaigns = m.campaigns;
  const seen = new Set();
  for (const a of m.agents) {
    seen.add(a.agent);
    const old = board.agents.get(a.agent);
    const since = Date.now() - a.state_s * 1000;
    board.agents.set(a.agent, { ...a, since: old && old.state === a.state ? Math.min(old.since, since) : since });
  }
  for (const id of [...board.agents.keys()]) if (!seen.has(id)) board.agents.delete(id);
  renderCampaigns();
  renderAgents();
}

function onEvent(m) {
  const e = m.event;
  if (e.event === "agent") {
    window.outpace.states.push({ agent: e.agent, state: e.state, at_ms: Date.now() });
    if (e.state === "logged_out") board.agents.delete(e.agent);
    else {
      const old = board.agents.get(e.agent) || { agent: e.agent, calls: 0, occupancy: 0 };
      board.agents.set(e.agent, { ...old, state: e.state, reason: e.reason || "", since: old.state === e.state ? old.since : Date.now() });
    }
    renderAgents();
  } else if (e.event === "connected") {
    const a = board.agents.get(e.agent);
    if (a) { a.campaign = e.campaign; renderAgents(); }
  }
}

function send(m) { if (!board.link || !board.link.send(m)) $("notice").textContent = t("reconnecting"); }

function onMessage(m) {
  switch (m.type) {
    case "session":
      $("who").textContent = m.name && m.name !== m.agent ? `${m.name} (${m.agent})` : m.agent;
      break;
    case "floor": onFloor(m); break;
    case "event": onEvent(m); break;
    case "done":
      $("notice").textContent = m.request === "message" ? t("message_sent", { n: m.reply.sent }) : S.done;
      break;
    case "error": $("notice").textContent = t("error", { reason: m.reason }); break;
    default: break;
  }
}

function start(session) {
  if (session.role !== "supervisor") { showLogin("supervisor", S.not_supervisor, start); return; }
  banner("");
  board.link = connect("supervisor", onMessage, (why, moved) => {
    board.link = null;
    if (moved) { banner(why, "warn"); return; }
    showLogin("supervisor", why, start);
  });
}

fillStrings();
$("btn-logout").onclick = async () => { await api("/api/logout?role=supervisor", {}); if (board.link) board.link.close(); showLogin("supervisor", "", start); };
$("message-form").onsubmit = (ev) => {
  ev.preventDefault();
  const text = $("message-text").value.trim();
  if (!text) return;
  const m = { type: "message", text };
  const to = $("message-to").value;
  if (to.startsWith("agent:")) m.agent = to.slice(6);
  if (to.startsWith("campaign:")) m.campaign = to.slice(9);
  send(m);
  $("message-text").value = "";
};
setInterval(renderAgents, 1000);
api("/api/session?role=supervisor").then(({ status, data }) => {
  if (status === 200) { $("login").classList.add("hidden"); $("app").classList.remove("hidden"); start(data); }
  else showLogin("supervisor", "", start);
}).catch(() => showLogin("supervisor", "", start));
