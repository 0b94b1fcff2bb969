"""complexity_threshold: no function may be more complex than the configured cyclomatic complexity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from repo_automation.context import RunContext
from repo_automation.domain import GateResult, Metric
from repo_automation.stages import Gate

METRIC = "code_quality.max_complexity"


class ComplexityGate(Gate):
    name = "complexity_threshold"

    def __init__(self, *, threshold: int, list_offenders: bool = True) -> None:
        self.threshold = threshold
        self.list_offenders = list_offenders

    def evaluate(self, metrics: Mapping[str, Metric], ctx: RunContext) -> GateResult:
        metric = metrics.get(METRIC)
        if metric is None:
            return GateResult(name=self.name, passed=None, actual=None, threshold=self.threshold,
                              message="no complexity measured (no Python files, or the complexity collector "
                                      "did not run), so the threshold cannot be checked")
        actual = int(metric.value)
        if actual <= self.threshold:
            return GateResult(name=self.name, passed=True, actual=actual, threshold=self.threshold,
                              message=f"every function is at or below complexity {self.threshold} "
                                      f"(highest: {actual})")
        offenders = [o for o in _offenders(metric.metadata) if o["complexity"] > self.threshold]
        count = _count_over(metric.metadata, self.threshold, len(offenders))
        worst = offenders[0] if offenders else None
        where = f" (worst: {worst['name']} at {worst['path']}:{worst['line']}, {worst['complexity']})" if worst else ""
        noun = "function exceeds" if count in ("1", "at least 1") else "functions exceed"
        details = tuple(f"{o['path']}:{o['line']} {o['name']}: complexity {o['complexity']}" for o in offenders)
        return GateResult(name=self.name, passed=False, actual=actual, threshold=self.threshold,
                          message=f"{count} {noun} complexity {self.threshold}{where}",
                          details=details if self.list_offenders else ())


def _offenders(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = meta.get("worst_offenders")
    out: list[dict[str, Any]] = []
    if isinstance(raw, Sequence):
        for o in raw:
            if isinstance(o, Mapping) and {"path", "line", "name", "complexity"} <= o.keys():
                out.append(dict(o))
    return sorted(out, key=lambda o: -o["complexity"])


def _count_over(meta: Mapping[str, Any], threshold: int, listed: int) -> str:
    """How many functions exceed the threshold: exact when the collector counted for this threshold."""
    if meta.get("threshold") == threshold and isinstance(meta.get("over_threshold"), int):
        return str(meta["over_threshold"])
    return f"at least {max(listed, 1)}"
