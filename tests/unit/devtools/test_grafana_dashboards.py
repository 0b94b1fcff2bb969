"""The checked-in Grafana dashboard is what the generator builds, fits Grafana's model, and the provisioning
files load it with data sources of the types its variables ask for."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard

from devtools.grafana_dashboards import FILE, POSTGRES, PROMETHEUS, ROOT, main, render

PROVISIONING = ROOT / "grafana" / "provisioning"


def test_the_checked_in_dashboard_is_what_the_generator_builds() -> None:
    assert FILE.read_text(encoding="utf-8") == render(), "run python -m devtools.grafana_dashboards"
    assert main(["--check"]) == 0


def test_the_dashboard_reads_back_as_grafanas_dashboard_model() -> None:
    doc = json.loads(FILE.read_text(encoding="utf-8"))
    model = Dashboard.from_json(doc)
    assert model.uid == "repo-automation" and model.title == "Repository automation"
    assert [p["id"] for p in doc["panels"]] == list(range(1, len(doc["panels"]) + 1))  # unique ids


def test_the_guides_panels_are_there() -> None:
    doc = json.loads(FILE.read_text(encoding="utf-8"))
    panels = {p["title"]: p for p in doc["panels"]}
    assert panels["Automation Status"]["type"] == "stat"
    health = panels["Project Health Scores"]
    assert health["type"] == "gauge"
    steps = health["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in steps] == [(None, "red"), (60, "yellow"), (80, "green")]
    assert (health["fieldConfig"]["defaults"]["min"], health["fieldConfig"]["defaults"]["max"]) == (0, 100)
    sql = [t["rawSql"] for p in doc["panels"] for t in p.get("targets", []) if "rawSql" in t]
    assert sql and all("FROM project_metrics" in q for q in sql)
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == PROMETHEUS
    assert variables["history"]["query"] == POSTGRES


def test_provisioning_loads_the_dashboards_folder_with_both_data_sources() -> None:
    sources = yaml.safe_load((PROVISIONING / "datasources" / "repo-automation.yml").read_text(encoding="utf-8"))
    assert sources["apiVersion"] == 1
    assert {d["type"] for d in sources["datasources"]} == {PROMETHEUS, POSTGRES}
    for source in sources["datasources"]:
        assert "password" not in source and "password" not in source.get("jsonData", {})
        secret = source.get("secureJsonData", {}).get("password")
        assert secret is None or secret.startswith("$")  # from the environment, never in the file
    boards = yaml.safe_load((PROVISIONING / "dashboards" / "repo-automation.yml").read_text(encoding="utf-8"))
    [provider] = boards["providers"]
    assert provider["type"] == "file" and Path(provider["options"]["path"]).name == FILE.parent.name
