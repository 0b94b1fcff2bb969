"""Checks a SARIF log against the SARIF 2.1.0 JSON Schema and GitHub's code-scanning upload requirements."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parents[2] / "data" / "sarif" / "sarif-schema-2.1.0.json"


@cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_problems(log: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(log)]


def github_problems(log: dict[str, Any]) -> list[str]:
    """What GitHub's 'SARIF support for code scanning' requires of an upload, and its hard limits."""
    out: list[str] = []
    if log.get("version") != "2.1.0":
        out.append("version must be 2.1.0")
    runs = log.get("runs", [])
    if len(runs) > 20:
        out.append("more than 20 runs")
    categories = [r.get("automationDetails", {}).get("id") for r in runs]
    if len(set(categories)) != len(categories):
        out.append("runs share an automationDetails.id category")
    for run in runs:
        driver = run["tool"]["driver"]
        if not driver.get("name"):
            out.append("tool.driver.name missing")
        rules = driver.get("rules", [])
        if len(rules) > 25_000 or len(run.get("results", [])) > 25_000:
            out.append("over 25,000 rules or results in a run")
        for rule in rules:
            out.extend(_rule_problems(rule))
        for res in run.get("results", []):
            out.extend(_result_problems(res, rules))
    return out


def _rule_problems(rule: dict[str, Any]) -> list[str]:
    out = []
    if not rule.get("id"):
        out.append("rule without id")
    if len(rule.get("shortDescription", {}).get("text", "")) > 1024:
        out.append(f"rule {rule.get('id')}: shortDescription over 1024 characters")
    props = rule.get("properties", {})
    if "security-severity" in props and not 0.0 <= float(props["security-severity"]) <= 10.0:
        out.append(f"rule {rule['id']}: security-severity out of range")
    if len(props.get("tags", [])) > 20:
        out.append(f"rule {rule['id']}: more than 20 tags")
    return out


def _result_problems(res: dict[str, Any], rules: list[dict[str, Any]]) -> list[str]:
    out = []
    if not res.get("message", {}).get("text"):
        out.append("result without message.text")
    if "ruleIndex" in res and rules[res["ruleIndex"]]["id"] != res.get("ruleId"):
        out.append(f"ruleIndex of {res.get('ruleId')} points to another rule")
    locs = res.get("locations", [])
    if not 1 <= len(locs) <= 1000:
        out.append(f"result {res.get('ruleId')}: needs 1 to 1000 locations")
    for loc in locs:
        phys = loc.get("physicalLocation", {})
        uri = phys.get("artifactLocation", {}).get("uri", "")
        if not uri or "://" in uri or uri.startswith("/"):
            out.append(f"result {res.get('ruleId')}: uri {uri!r} is not repo-relative")
        if phys.get("region", {}).get("startLine", 0) < 1:
            out.append(f"result {res.get('ruleId')}: region.startLine missing")
    return out
