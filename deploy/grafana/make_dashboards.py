#!/usr/bin/env python3
"""Writes Outpace's Grafana dashboards (dashboards/*.json) from the panel lists below.

Several engines (docs/scaling.md) are scraped by one Prometheus, each with its own `instance`
label: per-campaign panels need no change (a campaign lives on one engine), engine-wide ones sum
across engines or show one series per instance. Every expression uses only metrics in
metrics/metrics.cc; the test suite runs each one against a
live engine scraped by a real Prometheus. Run it after changing a panel: python3 make_dashboards.py
"""
import json
import os

DS = {"type": "prometheus", "uid": "outpace-prometheus"}

DASHBOARDS = {
    "outpace-campaigns": ("Outpace · campaigns", [
        ("Dials per second", "sum by (campaign) (rate(outpace_dials_total[1m]))", "ops"),
        ("Calls in progress", "outpace_calls_in_progress", "short"),
        ("Outcomes per minute", "sum by (campaign, result) (increase(outpace_call_outcomes_total[1m]))", "short"),
        ("Live answers per minute", "sum by (campaign) (increase(outpace_live_answers_total[1m]))", "short"),
        ("Agent occupancy", "sum by (campaign) (outpace_agents{state=~\"talking|wrapup|reserved\"}) / clamp_min(sum by (campaign) (outpace_agents{state=~\"ready|reserved|talking|wrapup\"}), 1)", "percentunit"),
        ("Pacing: calls asked for", "outpace_pacing_target_calls", "short"),
        ("Pacing: lines per agent", "outpace_pacing_lines_per_agent", "short"),
        ("Pacing: live answers per dial (estimate)", "outpace_pacing_live_rate", "percentunit"),
        ("Pacing: agents expected free", "outpace_pacing_expected_free_agents", "short"),
        ("Contacts dialable now (up to 1,000)", "outpace_hopper_dialable", "short"),
        ("Contacts remaining (up to 100,000)", "outpace_contacts_remaining", "short"),
    ]),
    "outpace-agents": ("Outpace · agents", [
        ("Agents by state", "sum by (campaign, state) (outpace_agents)", "short"),
        # Every engine's together (a cluster: docs/scaling.md); the per-campaign panels are
        # already one series per campaign, and a campaign lives on one engine.
        ("Agents logged in, all engines", "sum(outpace_agents_logged_in)", "short"),
        ("Agent wait before a call (p50, p95)", "histogram_quantile(0.5, sum by (le, campaign) (rate(outpace_agent_wait_seconds_bucket[15m])))", "s"),
        ("Talk time (median)", "histogram_quantile(0.5, sum by (le, campaign) (rate(outpace_talk_seconds_bucket[15m])))", "s"),
        ("Wrap-up time (median)", "histogram_quantile(0.5, sum by (le, campaign) (rate(outpace_wrapup_seconds_bucket[15m])))", "s"),
        ("Calls waiting for an agent", "outpace_calls_waiting_for_agent", "short"),
    ]),
    "outpace-compliance": ("Outpace · compliance", [
        ("Abandon rate over the regulatory window", "outpace_abandon_rate", "percentunit"),
        ("Abandon-rate cap", "outpace_abandon_rate_cap", "percentunit"),
        ("Pacing: abandon rate the window's allowance lets it aim at", "outpace_pacing_abandon_target", "percentunit"),
        ("Pacing: abandons per abandon its model predicted", "outpace_pacing_calibration", "short"),
        ("Abandoned per hour", "sum by (campaign) (increase(outpace_abandoned_total[1h]))", "short"),
        ("Verdict to agent, p99 (2-second rule)", "histogram_quantile(0.99, sum by (le, campaign) (rate(outpace_connect_seconds_bucket[15m])))", "s"),
        ("Contacts waiting for calling hours or retry times", "outpace_contacts_remaining - outpace_hopper_dialable", "short"),
    ]),
    "outpace-carrier": ("Outpace · carrier and SIP", [
        ("SIP responses per second by code", "sum by (trunk, code) (rate(outpace_sip_responses_total[1m]))", "ops"),
        ("Trunk up", "outpace_trunk_up", "short"),
        ("Calls on the trunk", "outpace_trunk_calls", "short"),
        ("Carrier errors per second", "sum by (trunk) (rate(outpace_trunk_carrier_errors_total[1m]))", "ops"),
        ("RTP packets lost (share)", "sum(rate(outpace_rtp_packets_total{result=\"lost\"}[5m])) / clamp_min(sum(rate(outpace_rtp_packets_total[5m])), 1e-9)", "percentunit"),
        ("RTP jitter p95", "histogram_quantile(0.95, sum by (le) (rate(outpace_rtp_jitter_seconds_bucket[15m])))", "s"),
        ("Relay latency p99", "histogram_quantile(0.99, sum by (le) (rate(outpace_relay_latency_seconds_bucket[5m])))", "s"),
        ("Store write p99", "histogram_quantile(0.99, sum by (le, op) (rate(outpace_store_write_seconds_bucket[5m])))", "s"),
    ]),
    "outpace-amd": ("Outpace · answering-machine detection", [
        ("Verdicts per minute", "sum by (campaign, result) (increase(outpace_amd_verdicts_total[1m]))", "short"),
        ("Machines among verdicts", "sum by (campaign) (rate(outpace_amd_verdicts_total{result=\"machine\"}[15m])) / clamp_min(sum by (campaign) (rate(outpace_amd_verdicts_total[15m])), 1e-9)", "percentunit"),
        ("Answer to verdict (p50)", "histogram_quantile(0.5, sum by (le, campaign) (rate(outpace_amd_decision_seconds_bucket[15m])))", "s"),
        ("Answer to verdict (p95)", "histogram_quantile(0.95, sum by (le, campaign) (rate(outpace_amd_decision_seconds_bucket[15m])))", "s"),
    ]),
}


def dashboard(uid, title, panels):
    out = []
    for i, (name, expr, unit) in enumerate(panels):
        out.append({
            "id": i + 1,
            "type": "timeseries",
            "title": name,
            "datasource": DS,
            "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "datasource": DS, "expr": expr,
                         "legendFormat": "__auto"}],
        })
    return {"uid": uid, "title": title, "tags": ["outpace"], "schemaVersion": 38,
            "time": {"from": "now-3h", "to": "now"}, "refresh": "30s", "panels": out}


here = os.path.dirname(os.path.abspath(__file__))
for uid, (title, panels) in DASHBOARDS.items():
    with open(os.path.join(here, "dashboards", uid + ".json"), "w") as f:
        json.dump(dashboard(uid, title, panels), f, indent=2)
        f.write("\n")
