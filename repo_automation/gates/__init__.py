"""Quality gates: pure policies over the collected metrics, built from `automation.code_quality`.

A gate whose input metric is missing is inconclusive (`passed=None`, with the reason); a failed gate is a
GateResult with the actual value, the threshold and a message, never an exception.
"""

from __future__ import annotations

from repo_automation.context import RunContext
from repo_automation.gates.complexity import ComplexityGate
from repo_automation.gates.coverage import CoverageGate
from repo_automation.gates.ratings import (
    MaintainabilityRatingGate,
    ReliabilityRatingGate,
    SecurityRatingGate,
)
from repo_automation.stages import Gate

__all__ = [
    "ComplexityGate",
    "CoverageGate",
    "MaintainabilityRatingGate",
    "ReliabilityRatingGate",
    "SecurityRatingGate",
    "build_gates",
]


def build_gates(ctx: RunContext) -> list[Gate]:
    """Every code-quality gate, unless `--skip-quality` or `automation.code_quality.enabled: false`."""
    if ctx.settings.skip_quality or not ctx.config.get("automation", "code_quality", "enabled", default=True):
        return []
    thresholds = ctx.config.get("automation", "code_quality", "quality_gates", default={})
    suggestions = bool(ctx.config.get("automation", "code_quality", "improvement_suggestions", default=True))
    return [
        CoverageGate(minimum=float(thresholds.get("coverage_minimum", 80))),
        ComplexityGate(threshold=int(thresholds.get("complexity_threshold", 10)), list_offenders=suggestions),
        MaintainabilityRatingGate(worst=str(thresholds.get("maintainability_rating", "A"))),
        ReliabilityRatingGate(worst=str(thresholds.get("reliability_rating", "A"))),
        SecurityRatingGate(worst=str(thresholds.get("security_rating", "A"))),
    ]
