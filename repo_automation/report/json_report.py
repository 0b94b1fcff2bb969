"""The RunReport as versioned JSON. The schema ships in the package (`report.schema.json`, draft 2020-12).

`schema_version` follows the report: a consumer that reads "1.x" can rely on every key the 1.0 schema
requires. Non-finite numbers (NaN, ±inf) become null so the output is always valid JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from repo_automation.domain import (
    Action,
    Alert,
    CategoryScore,
    Finding,
    FindingScope,
    GateResult,
    Health,
    Location,
    Metric,
    MetricChange,
    RunReport,
    SourceResult,
    UnevaluatedRule,
    Verdict,
)
from repo_automation.report.views import headline

SCHEMA_FILE = "report.schema.json"


@cache
def schema() -> dict[str, Any]:
    """The report JSON Schema (draft 2020-12)."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate(document: Any) -> list[str]:
    """Every schema problem of a report document as 'JSON path: message' (empty when valid)."""
    import jsonschema  # lazily: keeps --help fast

    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    out = []
    for err in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        out.append(f"{path}: {err.message}")
    return out


def number(value: float | int | None) -> float | int | None:
    """A JSON-safe number: None for NaN and infinities."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def iso(ts: datetime) -> str:
    """RFC 3339 in UTC with a Z (naive datetimes are taken as UTC)."""
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _category(c: CategoryScore) -> dict[str, Any]:
    return {
        "score": number(c.score),
        "status": "scored" if c.score is not None else "inconclusive",
        "inputs": {k: number(v) for k, v in sorted(c.inputs.items())},
        "missing": list(c.missing),
        "formula": c.formula,
        "notes": list(c.notes),
    }


def _health(h: Health) -> dict[str, Any]:
    scored, weighing, share = h.measured()
    return {
        "overall": number(h.overall),
        "grade": h.grade,
        "headline": headline(h),
        "measured": {"categories": scored, "of": weighing, "weight_share": round(share, 4)},
        "partial": list(h.partial),
        "weights": {k: number(v) for k, v in sorted(h.weights.items())},
        "categories": {name: _category(c) for name, c in sorted(h.categories.items())},
    }


def _change(ch: MetricChange | None) -> dict[str, Any]:
    if ch is None:
        return {"previous": None, "delta_previous": None, "thirty_days_ago": None, "delta_30d": None}
    return {
        "previous": number(ch.previous),
        "delta_previous": number(ch.delta_previous),
        "thirty_days_ago": number(ch.thirty_days_ago),
        "delta_30d": number(ch.delta_30d),
    }


def _metric(m: Metric, ch: MetricChange | None) -> dict[str, Any]:
    return {"name": m.name, "value": number(m.value), "unit": m.unit, "source": m.source, "basis": m.basis,
            "change": _change(ch), "metadata": _plain(m.metadata)}


def _plain(meta: Any) -> Any:
    """Metric metadata as plain JSON (tuples to lists, non-finite numbers to null, other values to text)."""
    if isinstance(meta, Mapping):
        return {str(k): _plain(v) for k, v in meta.items()}
    if isinstance(meta, list | tuple):
        return [_plain(v) for v in meta]
    if isinstance(meta, float):
        return number(meta)
    if meta is None or isinstance(meta, str | int | bool):
        return meta
    return str(meta)


def _location(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {"path": loc.path, "start_line": loc.start_line, "end_line": loc.end_line,
            "start_column": loc.start_column}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "tool": f.tool, "rule_id": f.rule_id, "severity": f.severity.value, "fingerprint": f.fingerprint,
        "title": f.title, "message": f.message, "confidence": f.confidence, "cwe": list(f.cwe),
        "location": _location(f.location), "package": f.package, "version": f.version,
        "fixed_versions": list(f.fixed_versions), "ids": list(f.ids), "help_uri": f.help_uri,
        "state": f.state, "note": f.note, "scope": f.scope.value,
    }


def gate_status(g: GateResult) -> str:
    return "inconclusive" if g.passed is None else ("passed" if g.passed else "failed")


def _scalar(v: float | str | None) -> float | str | None:
    return v if isinstance(v, str) else number(v)


def _gate(g: GateResult) -> dict[str, Any]:
    return {"name": g.name, "status": gate_status(g), "passed": g.passed, "actual": _scalar(g.actual),
            "threshold": _scalar(g.threshold), "message": g.message, "details": list(g.details),
            "mode": g.mode.value, "scope": g.scope.value, "baseline": g.baseline, "suggestions": list(g.suggestions)}


def _alert(a: Alert) -> dict[str, Any]:
    return {"level": a.level, "condition": a.condition, "channels": list(a.channels),
            "values": {k: number(v) for k, v in sorted(a.values.items())},
            "escalation_time_minutes": a.escalation_time_minutes}


def _source(s: SourceResult) -> dict[str, Any]:
    return {"name": s.name, "kind": s.kind, "status": s.status.value, "reason": s.reason, "detail": s.detail,
            "duration_s": number(s.duration_s), "nothing_to_do": s.nothing_to_do}


def _action(a: Action) -> dict[str, Any]:
    return {"sink": a.sink, "description": a.description, "performed": a.performed, "target": a.target}


def _unevaluated(r: UnevaluatedRule) -> dict[str, Any]:
    return {"level": r.level, "condition": r.condition, "missing": list(r.missing)}


def _policy(v: Verdict) -> dict[str, Any]:
    return {"passed": v.passed, "enforced": v.enforced, "reasons": list(v.reasons), "context": list(v.context)}


def to_json(report: RunReport) -> dict[str, Any]:
    """The report as a JSON-ready dict that validates against `schema()`.

    `alert_rules_not_evaluated` lists alert conditions whose metrics were missing in this run; `policy` is
    the run's verdict, present whenever the report has one (every report the pipeline builds).
    """
    changes = {c.name: c for c in report.history.changes}
    h = report.health
    return {
        "schema_version": report.schema_version,
        "repository": report.repository,
        "generated_at": iso(report.generated_at),
        "dry_run": report.dry_run,
        "sha": report.sha,
        "ref": report.ref,
        "event_name": report.event_name,
        "health": _health(h),
        "metrics": [_metric(m, changes.get(m.name)) for m in sorted(report.metrics, key=lambda m: m.name)],
        "trend": [{"timestamp": iso(p.timestamp), "overall": number(p.overall)} for p in report.history.trend],
        "findings": [_finding(f) for f in report.findings if f.scope is FindingScope.MAIN],
        "test_findings": [_finding(f) for f in report.findings if f.scope is FindingScope.TEST],
        "gates": [_gate(g) for g in report.gates],
        "alerts": [_alert(a) for a in report.alerts],
        "alert_rules_not_evaluated": [_unevaluated(r) for r in report.rules_not_evaluated],
        "sources": [_source(s) for s in report.sources],
        "actions": [_action(a) for a in report.actions],
        "notices": list(report.notices),
    } | ({} if report.verdict is None else {"policy": _policy(report.verdict)})


def dumps(document: Mapping[str, Any]) -> str:
    """The canonical text form: UTF-8, two-space indent, trailing newline, NaN forbidden."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
