// The agent desktop: the engine's agent protocol (docs/agent-protocol.md) through the gateway's
// WebSocket. The page holds no state the engine does not: on a reload the gateway replays the
// call in progress.
import { S, t } from "./strings.js";
import { $, el, api, banner, connect, showLogin, fmtDuration, zonedToUnix } from "./common.js";

const desk = {
  agent: "", state: "", since: Date.now(), call: null, controls: null,
  wrapup: null, chosen: null, link: null,
  transfer: "",  // waiting | consulting | conference while this agent's transfer is under way
  target: false,  // this agent is the target of a consult (the first agent decides)
  supervisor: false,
};
// For tests and the screen-pop benchmark: when each offer reached the DOM (wall-clock ms).
window.outpace = { pops: [] };

function fillStrings() {
  document.title = S.app_agent;
  $("login-title").textContent = S.app_agent;
  for (const e of document.querySelectorAll("[data-s]")) e.textContent = S[e.dataset.s];
  const sel = $("pause-reason");
  for (const r of S.pause_reasons) sel.append(el("option", { value: r }, r));
  $("keys-help").textContent = S.keys_help;
}

function send(m) {
  if (!desk.link || !desk.link.send(m)) notice(t("reconnecting"));
}

function notice(text) { $("notice").textContent = text || ""; }

function setState(state, reason) {
  if (state !== desk.state) desk.since = Date.now();
  desk.state = state;
  const s = $("state");
  s.textContent = S[`state_${state}`] || state;
  s.dataset.state = state;
  $("state-reason").textContent = reason || "";
  if (state === "ready" && !desk.call) notice(S.waiting);
  if (state === "paused") notice(S.paused_hint);
  render();
}

function showContact(m) {
  $("call-phone").textContent = m.phone || "";
  $("call-label").textContent = m.phone_label || "";
  $("call-campaign").textContent = m.campaign || "";
  const table = $("contact-fields");
  table.replaceChildren(...Object.entries(m.fields || {}).map(([k, v]) =>
    el("tr", { "data-field": k }, el("th", {}, k), el("td", {}, v))));
  $("script").textContent = m.script || "";
  const history = m.history || [];
  $("history").replaceChildren(...(history.length ? history.map((h) =>
    el("li", { "data-attempt": h.attempt },
      `${h.at} · ${h.phone} · ${h.outcome}${h.disposition ? " · " + h.disposition : ""}` +
      `${h.agent ? " · " + h.agent : ""}${h.talk_s ? " · " + Math.round(h.talk_s) + " s" : ""}` +
      `${h.notes ? " — " + h.notes : ""}`)) : [el("li", { class: "muted" }, S.no_history)]));
  const survey = m.survey || [];
  $("survey-box").classList.toggle("hidden", !survey.length);
  $("survey").replaceChildren(...survey.map((q) =>
    el("li", {}, el("span", {}, q.text), " ",
      el("select", { "data-question": q.id }, el("option", { value: "" }, "—"),
        ...Array.from(q.answers || []).map((a) => el("option", { value: a }, a))))));
  const zone = m.zone || "";
  $("callback-label").textContent = zone ? t("callback_at", { zone }) : S.callback_zone_unknown;
  $("callback-at").dataset.zone = zone;
  $("callback-at").value = "";
  $("callback-me").checked = false;
  $("notes").value = "";
  showDispositions(m.dispositions || []);
}

function showDispositions(list) {
  $("dispositions").replaceChildren(...list.map((d, i) =>
    el("button", {
      "data-code": d.code, class: d.callback ? "callback" : "",
      title: i < 9 ? `${i + 1}` : "", onclick: () => choose(d.code),
    }, i < 9 ? `${i + 1} · ${d.label || d.code}` : d.label || d.code)));
}

function choose(code) {
  if (!desk.call) return;
  const d = (desk.call.dispositions || []).find((x) => x.code === code);
  if (!d) return;
  desk.chosen = code;
  for (const b of $("dispositions").children) b.classList.toggle("chosen", b.dataset.code === code);
  if (desk.state === "wrapup") dispose();
}

function dispose() {
  const code = desk.chosen;
  const d = (desk.call.dispositions || []).find((x) => x.code === code);
  const attempt = desk.wrapup ? desk.wrapup.attempt : desk.call.attempt;
  const m = { type: "disposition", attempt, code };
  const notes = $("notes").value.trim();
  if (notes) m.notes = notes;
  const when = $("callback-at").value;
  if (d && d.callback) {
    if (!when) { notice(t("callback_needed", { code })); $("callback-at").focus(); return; }
  }
  if (when) {
    const zone = $("callback-at").dataset.zone;
    m.callback_at = zone ? zonedToUnix(when, zone) : Math.round(new Date(when).getTime() / 1000);
    if ($("callback-me").checked) m.for = "me";
  }
  const answers = {};
  for (const s of $("survey").querySelectorAll("select")) if (s.value) answers[s.dataset.question] = s.value;
  if (Object.keys(answers).length) m.answers = answers;
  send(m);
}

function render() {
  const st = desk.state, inCall = st === "talking";
  $("btn-ready").disabled = !(st === "paused" || st === "connecting");
  $("btn-pause").disabled = st === "paused";
  $("btn-hangup").disabled = !inCall;
  $("btn-hold").disabled = !inCall;
  $("btn-mute").disabled = !inCall;
  $("btn-record").disabled = !inCall || !desk.controls || desk.controls.recording === "off";
  const tr = desk.transfer;
  $("btn-transfer").disabled = !inCall || !!tr || desk.target;
  $("btn-consult").disabled = !inCall || !!tr || desk.target;
  $("btn-complete").disabled = !(tr === "consulting" || tr === "conference");
  $("btn-conference").disabled = tr !== "consulting";
  $("btn-transfer-cancel").disabled = !tr;
  $("btn-next").disabled = !(st === "ready" || st === "paused");
  $("btn-dial").disabled = st !== "reserved";
  $("btn-skip").disabled = st !== "reserved";
  const c = desk.controls || {};
  $("btn-hold").textContent = c.on_hold ? S.unhold : S.hold;
  $("btn-mute").textContent = c.muted ? S.unmute : S.mute;
  $("btn-record").textContent = c.recording === "paused" ? S.record_resume : S.record_pause;
  for (const b of $("dispositions").children) b.disabled = !(st === "wrapup" || st === "talking");
}

function tick() {
  $("state-timer").textContent = fmtDuration((Date.now() - desk.since) / 1000);
  if (desk.wrapup && desk.state === "wrapup") {
    const left = Math.max(0, (desk.wrapup.deadline - Date.now()) / 1000);
    $("wrapup-left").textContent = t("wrapup_left", { s: Math.ceil(left) });
  } else {
    $("wrapup-left").textContent = "";
  }
}

function message(text, kind = "") {
  const list = $("messages");
  list.prepend(el("li", { class: kind }, `${new Date().toLocaleTimeString()} ${text}`));
  while (list.children.length > 20) list.lastChild.remove();
}

function onMessage(m) {
  switch (m.type) {
    case "session":
      desk.agent = m.agent;
      $("who").textContent = m.name && m.name !== m.agent ? `${m.name} (${m.agent})` : m.agent;
      break;
    case "logged_in":
      desk.supervisor = m.role === "supervisor";
      $("live-box").classList.toggle("hidden", !desk.supervisor);
      if (desk.supervisor) send({ type: "calls" });
      setState(m.state);
      break;
    case "transfer":
      if (desk.target) {
        // The target of a consult: the customer is its own once completed; let go once ended.
        if (m.state === "completed" || m.state === "ended") desk.target = false;
      } else {
        desk.transfer = ["waiting", "consulting", "conference"].includes(m.state) ? m.state : "";
      }
      $("transfer-state").textContent =
        t(`transfer_state_${m.state}`, { agent: m.agent || "…" }) + (m.reason ? ` (${m.reason})` : "");
      render();
      break;
    case "calls":
      showCalls(m.calls || []);
      break;
    case "monitoring":
      $("monitor-state").textContent = t("monitoring", { attempt: m.attempt, agent: m.agent, mode: S[`monitor_${m.mode}`] || m.mode });
      send({ type: "calls" });
      break;
    case "monitor_ended":
      $("monitor-state").textContent = t("monitor_ended", { reason: m.reason });
      send({ type: "calls" });
      break;
    case "state":
      if (m.state !== "talking") { desk.transfer = ""; desk.target = false; }
      setState(m.state, m.reason);
      if (m.state === "ready" || m.state === "paused") {
        if (!desk.wrapup) { desk.call = null; desk.controls = null; }
      }
      break;
    case "offer":
      desk.call = m; desk.controls = { on_hold: false, muted: false, recording: "on" };
      desk.wrapup = null;
      desk.chosen = null;
      desk.transfer = "";
      desk.target = m.transfer_kind === "consult";
      showContact(m);
      notice(m.transferred_by ? t("transferred_by", { agent: m.transferred_by, kind: m.transfer_kind }) : "");
      $("transfer-state").textContent = "";
      window.outpace.offer = m;
      window.outpace.pops.push({ attempt: m.attempt, verdict_clock_us: m.verdict_clock_us,
        shown_ms: performance.timeOrigin + performance.now() });
      render();
      break;
    case "preview":
      desk.call = m; desk.chosen = null; desk.wrapup = null;
      showContact(m);
      $("preview-callback").textContent = m.callback_at ? t("preview_callback", { at: m.callback_at }) : "";
      render();
      break;
    case "dialing":
      if (desk.call) desk.call.attempt = m.attempt;
      notice(t("dialing", { phone: m.phone }));
      break;
    case "connected":
      if (desk.call) desk.call.attempt = m.attempt;
      break;
    case "controls":
      desk.controls = m;
      render();
      break;
    case "hangup":
      notice(t("hangup_by", { by: m.by }));
      break;
    case "wrapup":
      desk.wrapup = { attempt: m.attempt, deadline: Date.now() + m.max_s * 1000 };
      if (desk.call && !desk.call.attempt) desk.call.attempt = m.attempt;
      if (desk.chosen) setTimeout(dispose, 0);
      break;
    case "disposed":
      notice(t("disposed", { code: m.code, attempt: m.attempt }));
      message(t("disposed", { code: m.code, attempt: m.attempt }));
      desk.wrapup = null; desk.chosen = null; desk.call = null;
      break;
    case "wrapup_timeout":
      notice(t("wrapup_timeout", { attempt: m.attempt }));
      message(t("wrapup_timeout", { attempt: m.attempt }), "warn");
      desk.wrapup = null; desk.chosen = null; desk.call = null;
      break;
    case "pause_pending":
      notice(t("pending_pause", { reason: m.reason }));
      break;
    case "logout_pending":
      notice(S.pending_logout);
      break;
    case "logged_out":
      setState("logged_out", m.reason);
      break;
    case "dtmf":
      message(`DTMF ${m.digit}`);
      break;
    case "message":
      message(`${t("message_from", { from: m.from })}: ${m.text}`, "from-supervisor");
      break;
    case "error":
      notice(t("error", { reason: m.reason }));
      break;
    default:
      break;
  }
}

function showCalls(calls) {
  const rows = calls.map((c) => el("tr", { "data-attempt": c.attempt },
    el("td", {}, String(c.attempt)), el("td", {}, c.agent), el("td", {}, c.campaign),
    el("td", {}, c.phone), el("td", {}, c.state), el("td", {}, fmtDuration(c.duration_s || 0)),
    el("td", {}, (c.monitors || []).map((x) => `${x.supervisor}: ${x.mode}`).join(", ")),
    el("td", {}, ...["listen", "whisper", "barge"].map((mode) =>
      el("button", { "data-mode": mode, onclick: () => send({ type: "monitor", attempt: c.attempt, mode }) },
        S[`monitor_${mode}`])))));
  $("live-calls").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "muted" }, S.no_live_calls))]));
}

function transferTo(type) {
  const target = $("transfer-target").value.trim();
  if (!target) { $("transfer-target").focus(); return; }
  send({ type, [$("transfer-to").value]: target });
}

function keyboard(ev) {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(ev.target.tagName);
  if (ev.altKey) {
    const k = ev.key.toLowerCase();
    const map = { r: "btn-ready", p: "btn-pause", h: "btn-hangup", o: "btn-hold", m: "btn-mute",
      n: "btn-next", d: "btn-dial", s: "btn-skip" };
    if (map[k]) { ev.preventDefault(); const b = $(map[k]); if (!b.disabled) b.click(); }
    return;
  }
  if (!typing && /^[1-9]$/.test(ev.key) && desk.call) {
    const d = (desk.call.dispositions || [])[Number(ev.key) - 1];
    if (d) { ev.preventDefault(); choose(d.code); }
  }
}

function start(session) {
  desk.agent = session.agent;
  if (document.activeElement) document.activeElement.blur();  // keys go to the desktop now
  banner("");
  desk.link = connect("agent", onMessage, (why, moved) => {
    desk.link = null;
    if (moved) { banner(why, "warn"); $("app").classList.add("inert"); return; }
    banner("");
    showLogin("agent", why, start);
  });
}

function wire() {
  $("btn-ready").onclick = () => send({ type: "ready" });
  $("btn-pause").onclick = () => send({ type: "pause", reason: $("pause-reason").value });
  $("btn-hangup").onclick = () => send({ type: "hangup" });
  $("btn-hold").onclick = () => send({ type: desk.controls && desk.controls.on_hold ? "unhold" : "hold" });
  $("btn-mute").onclick = () => send({ type: desk.controls && desk.controls.muted ? "unmute" : "mute" });
  $("btn-record").onclick = () => send({ type: desk.controls && desk.controls.recording === "paused" ? "record_resume" : "record_pause" });
  $("btn-next").onclick = () => send({ type: "next" });
  $("btn-dial").onclick = () => send({ type: "dial" });
  $("btn-skip").onclick = () => { send({ type: "skip" }); desk.call = null; };
  $("btn-logout").onclick = () => send({ type: "logout" });
  $("keys-form").onsubmit = (ev) => { ev.preventDefault(); const k = $("keys").value.trim(); if (k) send({ type: "dtmf", digits: k }); $("keys").value = ""; };
  $("manual-form").onsubmit = (ev) => {
    ev.preventDefault();
    const m = { type: "manual_dial", phone: $("manual-number").value.trim() };
    const c = $("manual-campaign").value.trim();
    if (c) m.campaign = c;
    if (m.phone) send(m);
  };
  $("transfer-form").onsubmit = (ev) => { ev.preventDefault(); transferTo("consult"); };
  $("btn-transfer").onclick = () => transferTo("transfer");
  $("btn-consult").onclick = () => transferTo("consult");
  $("btn-complete").onclick = () => send({ type: "complete" });
  $("btn-conference").onclick = () => send({ type: "conference" });
  $("btn-transfer-cancel").onclick = () => send({ type: "cancel" });
  $("btn-calls").onclick = () => send({ type: "calls" });
  $("btn-leave").onclick = () => send({ type: "unmonitor" });
  document.addEventListener("keydown", keyboard);
  setInterval(tick, 250);
}

fillStrings();
wire();
api("/api/session?role=agent").then(({ status, data }) => {
  if (status === 200 && data.role === "agent") { $("login").classList.add("hidden"); $("app").classList.remove("hidden"); start(data); }
  else showLogin("agent", "", start);
}).catch(() => showLogin("agent", "", start));
