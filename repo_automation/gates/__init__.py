"""Quality gates: pure policies over the collected metrics, built from `automation.code_quality`.

A gate whose input metric is missing is inconclusive (`passed=None`, with the reason); a failed gate is a
GateResult with the actual value, the threshold and a message, never an exception. The coverage and
complexity gates ratchet by default (`gate_modes`): they compare with the pull request's base or the last
stored run of the metrics history (gates/baseline.py), read only when a threshold is missed.
"""

from __future__ import annotations

from repo_automation.context import RunContext
from repo_automation.gates.baseline import history_baseline
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
    quality = ctx.config.code_quality
    if ctx.settings.skip_quality or not quality.enabled:
        return []
    thresholds, modes = quality.quality_gates, quality.gate_modes
    baseline = history_baseline(ctx.settings.history_db, ctx.workspace, repository=ctx.repository or "", now=ctx.now)
    return [
        CoverageGate(minimum=thresholds.coverage_minimum, list_files=quality.improvement_suggestions,
                     mode=modes.coverage_minimum, baseline=baseline),
        ComplexityGate(threshold=thresholds.complexity_threshold, list_offenders=quality.improvement_suggestions,
                       mode=modes.complexity_threshold, baseline=baseline),
        MaintainabilityRatingGate(worst=thresholds.maintainability_rating),
        ReliabilityRatingGate(worst=thresholds.reliability_rating),
        SecurityRatingGate(worst=thresholds.security_rating),
    ]
