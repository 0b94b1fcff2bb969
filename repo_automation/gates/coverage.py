"""coverage_minimum: test coverage must reach the configured percentage.

It reads `code_quality.coverage`: lines and branches together when the report has branch data (coverage.py's
TOTAL, SonarQube's "coverage"), lines only otherwise. The message says which.
"""

from __future__ import annotations

from collections.abc import Mapping

from repo_automation.context import RunContext
from repo_automation.domain import GateResult, Metric
from repo_automation.stages import Gate

METRIC = "code_quality.coverage"


class CoverageGate(Gate):
    name = "coverage_minimum"

    def __init__(self, *, minimum: float) -> None:
        self.minimum = minimum

    def evaluate(self, metrics: Mapping[str, Metric], ctx: RunContext) -> GateResult:
        metric = metrics.get(METRIC)
        if metric is None:
            return GateResult(name=self.name, passed=None, actual=None, threshold=self.minimum,
                              message=f"no coverage measured (no coverage report and no SonarQube coverage), "
                                      f"so the {_pct(self.minimum)} minimum cannot be checked")
        where = metric.metadata.get("path") or metric.source
        basis = metric.metadata.get("basis")
        where = f"{basis}, {where}" if basis else where
        if metric.value >= self.minimum:
            return GateResult(name=self.name, passed=True, actual=metric.value, threshold=self.minimum,
                              message=f"coverage {_pct(metric.value)} meets the minimum {_pct(self.minimum)} "
                                      f"({where})")
        return GateResult(name=self.name, passed=False, actual=metric.value, threshold=self.minimum,
                          message=f"coverage {_pct(metric.value)} is below the minimum {_pct(self.minimum)} "
                                  f"({where}): {_pct(self.minimum - metric.value)} short")


def _pct(v: float) -> str:
    return f"{v:.1f}%"
