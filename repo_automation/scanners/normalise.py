"""Turning each tool's words for severity, confidence and CWE into the Finding model's."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from repo_automation.domain import Severity

log = logging.getLogger(__name__)

_WORDS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "error": Severity.HIGH,  # semgrep
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,  # GitHub advisories
    "warning": Severity.MEDIUM,  # semgrep
    "low": Severity.LOW,
    "info": Severity.LOW,  # semgrep
    "negligible": Severity.LOW,
}
_CWE = re.compile(r"CWE-?(\d+)", re.IGNORECASE)


def severity_from_word(word: Any) -> Severity:
    if not isinstance(word, str):
        return Severity.UNKNOWN
    return _WORDS.get(word.strip().lower(), Severity.UNKNOWN)


def severity_from_score(score: float) -> Severity:
    """CVSS qualitative rating: 9.0+ critical, 7.0+ high, 4.0+ medium, above 0 low."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0:
        return Severity.LOW
    return Severity.UNKNOWN


def cvss_base_score(vector: str) -> float | None:
    """Base score of a CVSS v3.x or v4 vector (via the `cvss` library); None when it cannot be read."""
    try:
        from cvss import CVSS3, CVSS4  # lazily, for start-up time
        from cvss.exceptions import CVSSError
    except ImportError:  # pragma: no cover — declared as a dependency
        log.warning("the cvss package is missing: CVSS vectors are not scored")
        return None
    try:
        if vector.startswith("CVSS:4"):
            return float(CVSS4(vector).base_score)
        if vector.startswith("CVSS:3"):
            return float(CVSS3(vector).base_score)
    except (CVSSError, ValueError, KeyError) as e:
        log.debug("unreadable CVSS vector %r: %s", vector, e)
    return None


def worst(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank, default=Severity.UNKNOWN)


def cwe_ids(values: Any) -> tuple[str, ...]:
    """'CWE-78' strings from an int, a string, a {'id': 78} mapping or a list of any of those."""
    if values is None:
        return ()
    items = values if isinstance(values, list | tuple) else [values]
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, int) and item > 0:
            out.append(f"CWE-{item}")
        elif isinstance(item, str):
            m = _CWE.search(item) or (re.fullmatch(r"\d+", item.strip()) and re.match(r"(\d+)", item.strip()))
            if m:
                out.append(f"CWE-{m.group(1)}")
    return tuple(dict.fromkeys(out))


def confidence_word(word: Any) -> str | None:
    return word.strip().lower() if isinstance(word, str) and word.strip() else None
