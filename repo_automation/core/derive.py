"""Metrics derived from other metrics and from the findings (pure): one place for every derivation.

- `mi_rating`: radon's maintainability index as a rating A=1 … E=5;
- `derive_maintainability_rating`: `code_quality.maintainability_rating` from that index where SonarQube gave
  no rating (the maintainability gate uses the same);
- `derive_metrics`: the run's metrics plus the derived ones, the `security.*` counts from the findings
  included (`security_counts`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from repo_automation.catalogue import CATALOGUE
from repo_automation.core.policy import counted_severity
from repo_automation.domain import Finding, FindingScope, Metric, Severity, SourceResult, Status

if TYPE_CHECKING:
    from repo_automation.config.sections import SecurityScanning

MI_METRIC = "code_quality.maintainability_index"

# Lower bounds of each rating: A (1) from 20, B (2) from 15, C (3) from 10, D (4) from 5, E (5) below.
# A is radon's own rank A (MI >= 20, "very maintainable"); radon's B (10-19) splits into B/C and its C
# (0-9) into D/E, so each letter is one 5-point band of the range radon flags as a problem.
MI_RATING_BOUNDS = ((20.0, 1), (15.0, 2), (10.0, 3), (5.0, 4))


def mi_rating(index: float) -> int:
    """A maintainability index (0-100) as a rating number A=1 … E=5 (bands in MI_RATING_BOUNDS)."""
    for bound, rating in MI_RATING_BOUNDS:
        if index >= bound:
            return rating
    return 5


# States a finding is counted in: still present (baseline findings are accepted, not gone).
COUNTED_STATES = frozenset({"active", "new", "existing", "baseline"})
# Scanners that look at code (their medium findings stand in for hotspots when Sonar gives none).
CODE_SCANNERS = frozenset({"bandit", "semgrep"})

_SEVERITY_METRICS = {
    Severity.CRITICAL: "security.critical_vulnerabilities",
    Severity.HIGH: "security.high_vulnerabilities",
    Severity.MEDIUM: "security.medium_vulnerabilities",
    Severity.LOW: "security.low_vulnerabilities",
}


def derive_maintainability_rating(metrics: Iterable[Metric]) -> Metric | None:
    """`code_quality.maintainability_rating` from radon's index, only when no (Sonar) rating was measured."""
    by_name = {m.name: m for m in metrics}
    if "code_quality.maintainability_rating" in by_name or MI_METRIC not in by_name:
        return None
    mi = by_name[MI_METRIC]
    rating = mi_rating(mi.value)
    return Metric(name="code_quality.maintainability_rating", value=float(rating), source="radon-mi",
                  metadata={"derived_from": MI_METRIC, "maintainability_index": mi.value,
                            "mapping": "A >= 20, B >= 15, C >= 10, D >= 5, E < 5 (radon maintainability index)"})


def derive_metrics(metrics: Sequence[Metric], findings: Sequence[Finding],
                   scanner_sources: Sequence[SourceResult], *, counting: Counting | None = None) -> list[Metric]:
    """The metrics plus those derived from them and from the findings; a measured metric is never replaced.

    - `code_quality.maintainability_rating` from radon's maintainability index when Sonar gave no rating
      (`derive_maintainability_rating`, the mapping the maintainability gate uses too);
    - the `security.*` counts, only when at least one scanner ran ok (otherwise they stay absent: unknown,
      not 0), with which scanners contributed, were skipped or failed in their metadata.
    """
    out = list(metrics)
    rating = derive_maintainability_rating(metrics)
    if rating is not None:
        out.append(rating)
    present = {m.name for m in out}
    out.extend(m for m in security_counts(findings, scanner_sources, counting or Counting())
               if m.name not in present)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Counting:
    """How findings count (from `automation.security_scanning`): the severity a finding without one counts as
    (`unknown_severity`), and whether test code counts (`count_test_findings`)."""

    unknown_as: Severity = Severity.UNKNOWN
    tests: bool = False

    @classmethod
    def from_section(cls, section: SecurityScanning) -> Counting:
        return cls(unknown_as=section.unknown_severity, tests=section.count_test_findings)


def security_counts(findings: Sequence[Finding], scanner_sources: Sequence[SourceResult],
                    counting: Counting | None = None) -> list[Metric]:
    """security.* counts from the findings in COUNTED_STATES; empty when no scanner ran ok.

    What the security score reads (the guide's formula, `core/scoring.py`):
    - `security.vulnerabilities`: every dependency advisory (a finding on a package, whatever its severity)
      plus the code findings of high or critical severity;
    - `security.hotspots`: the code findings of medium severity;
    - low code findings count in neither; findings in test code (`scope: test`) count nowhere unless
      `count_test_findings`; a finding without a severity counts as `unknown_severity`.
    The metadata says how many of each went in (`counted`), so the report can show the sum.
    """
    rules = counting or Counting()
    ok = tuple(s.name for s in scanner_sources if s.status is Status.OK)
    if not ok:
        return []
    present = [f for f in findings if f.state in COUNTED_STATES]
    counted = [f for f in present if rules.tests or f.scope is FindingScope.MAIN]
    severity = {id(f): counted_severity(f, rules.unknown_as) for f in counted}
    basis = _basis(counted, severity, not_counted=len(present) - len(counted))
    metadata = _scanner_metadata(ok, scanner_sources) | _unknown(counted, rules) | {"counted": basis}
    by_severity = Counter(severity.values())
    derived = {name: by_severity[sev] for sev, name in _SEVERITY_METRICS.items()}
    derived["security.vulnerabilities"] = basis["dependency_advisories"] + basis["code_high_or_critical"]
    hotspots = _hotspots(counted, ok, severity)
    if hotspots is not None:
        derived["security.hotspots"] = hotspots
    metadata["sample_size"] = len(counted)
    return [Metric(name=name, value=float(value), source="findings", unit=CATALOGUE[name].unit,
                   metadata=dict(metadata), basis=_in_words(len(counted), ok, scanner_sources))
            for name, value in derived.items()]


def _in_words(counted: int, ok: tuple[str, ...], scanner_sources: Sequence[SourceResult]) -> str:
    """E.g. "12 findings of bandit, pip-audit (this run); not seen: safety skipped"."""
    gaps = [f"{s.name} {s.status.value}" for s in scanner_sources
            if s.status in (Status.FAILED, Status.PARTIAL) or (s.status is Status.SKIPPED and not s.nothing_to_do)]
    text = f"{counted} finding{'' if counted == 1 else 's'} of {', '.join(ok)} (this run)"
    return text + (f"; not seen: {', '.join(gaps)}" if gaps else "")


def _unknown(counted: Sequence[Finding], rules: Counting) -> dict[str, object]:
    """How many counted findings had no severity, and what they were counted as."""
    return {"unknown_severity": sum(1 for f in counted if f.severity is Severity.UNKNOWN),
            "unknown_counted_as": rules.unknown_as.value}


def _basis(counted: Sequence[Finding], severity: Mapping[int, Severity], *, not_counted: int) -> dict[str, int]:
    """How many findings of each kind the security score's inputs hold (shown with the score)."""
    code = Counter(severity[id(f)] for f in counted if f.package is None)
    return {
        "dependency_advisories": sum(1 for f in counted if f.package is not None),
        "code_high_or_critical": code[Severity.CRITICAL] + code[Severity.HIGH],
        "code_medium": code[Severity.MEDIUM],
        "code_low": code[Severity.LOW] + code[Severity.UNKNOWN],
        "test_code_not_counted": not_counted,
    }


def _scanner_metadata(ok: tuple[str, ...], scanner_sources: Sequence[SourceResult]) -> dict[str, object]:
    """Which scanners the counts come from, which were skipped or failed, and which had nothing in their
    scope (no gap in the evidence, so the score does not call itself partial for them): names only. Their
    reasons are the sources' own (RunReport.sources), never copied into every count they touched."""
    skipped = [s for s in scanner_sources if s.status is Status.SKIPPED]
    return {
        "derived_from": "findings",
        "scanners": ok,
        "skipped": tuple(s.name for s in skipped if not s.nothing_to_do),
        "failed": tuple(s.name for s in scanner_sources if s.status in (Status.FAILED, Status.PARTIAL)),
        "nothing_to_scan": tuple(s.name for s in skipped if s.nothing_to_do),
    }


def _hotspots(counted: Sequence[Finding], ok: tuple[str, ...], severity: Mapping[int, Severity]) -> int | None:
    """Medium code (not package) findings; None (unknown) unless a code scanner ran ok or an ok scanner found code."""
    code = [f for f in counted if f.package is None]
    if CODE_SCANNERS.intersection(ok) or any(f.tool in ok for f in code):
        return sum(1 for f in code if severity[id(f)] is Severity.MEDIUM)
    return None
