"""deploy/prometheus.yml and deploy/grafana-dashboard.json are valid and fit together (that
every queried figure is served is checked against a running coach: tests/e2e/test_watch.py)."""

from __future__ import annotations

import json

import yaml
from watchkit import DASHBOARD, dashboard_queries

PROMETHEUS = DASHBOARD.parent / "prometheus.yml"


def test_the_scrape_config_scrapes_metrics() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "coach"
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"]


def test_the_dashboard_is_grafana_json_with_a_query_in_every_panel() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "stardom-coach"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]
    assert {
        "coach_events_total",
        "coach_handler_seconds_bucket",
        "coach_errors_total",
        "coach_outbound_sends_total",
        "coach_outbound_rate_limited_total",
        "coach_job_items_total",
        "coach_broadcast_deliveries",
        "coach_db_connections_in_use",
        "coach_job_lag_seconds",
    } <= dashboard_queries()
