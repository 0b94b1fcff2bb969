"""Stable fingerprints, so a finding keeps its identity across runs, tools and moved code.

Code findings: tool + rule + path + the normalised code snippet + the occurrence index among identical
snippets in that file (ordered by line). Line numbers are left out: moving code does not make a new
finding, while two identical findings at two places in one file stay two.

Dependency findings: package (PEP 503 name) + one canonical advisory id chosen from the id and its aliases
(CVE first, then GHSA, then PYSEC, then anything else; the smallest within a kind). No tool in it: the same
advisory found by pip-audit and by safety has one fingerprint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Sequence

from repo_automation.domain import Finding, printable_path

_WS = re.compile(r"\s+")
_ID_ORDER = ("CVE-", "GHSA-", "PYSEC-", "OSV-")


def normalise_snippet(text: str) -> str:
    """Whitespace-insensitive code: each line stripped, runs of blanks collapsed, empty lines dropped."""
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def snippet_from_lines(lines: Sequence[str], start: int | None, end: int | None) -> str:
    """The normalised source between 1-based lines start..end (inclusive), or '' when out of range."""
    if start is None or start < 1 or start > len(lines):
        return ""
    stop = min(max(end or start, start), len(lines))
    return normalise_snippet("\n".join(lines[start - 1: stop]))


def _digest(*parts: str) -> str:
    """A hash of the parts' bytes. A file name that is not UTF-8 reaches us with its undecodable bytes as
    surrogates (os.fsdecode, git's output decoded with surrogateescape): hashing them back to the original
    bytes keeps its fingerprint stable, where strict UTF-8 would crash the whole scan."""
    text = "\x1f".join(parts)
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate from a tool's JSON (\ud800): hash it as written
        data = text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


def canonical_id(ids: Iterable[str]) -> str:
    """The advisory id every tool agrees on: CVE, then GHSA, then PYSEC, then other; smallest first."""
    clean = sorted({i.strip().upper() for i in ids if i and i.strip()})
    if not clean:
        return ""
    for prefix in _ID_ORDER:
        of_kind = [i for i in clean if i.startswith(prefix)]
        if of_kind:
            return of_kind[0]
    return clean[0]


def canonical_package(name: str) -> str:
    from packaging.utils import canonicalize_name  # lazily, for start-up time

    return str(canonicalize_name(name))


def dependency_fingerprint(package: str, ids: Iterable[str]) -> str:
    return _digest("dependency", canonical_package(package), canonical_id(ids))


def code_fingerprint(tool: str, rule_id: str, path: str, snippet: str, occurrence: int) -> str:
    return _digest("code", tool, rule_id, path, normalise_snippet(snippet), str(occurrence))


def with_code_fingerprints(findings: Sequence[Finding]) -> list[Finding]:
    """Fill in the fingerprints of code findings from one tool run (occurrences counted by line order)."""
    def line_key(f: Finding) -> tuple[int, int]:
        loc = f.location
        return (loc.start_line or 0, loc.start_column or 0) if loc else (0, 0)

    seen: dict[tuple[str, str, str, str], int] = {}
    by_id: dict[int, Finding] = {}
    for f in sorted(findings, key=lambda f: (f.location.path if f.location else "", line_key(f))):
        path = f.location.path if f.location else ""
        snippet = normalise_snippet(f.location.snippet or "") if f.location else ""
        key = (f.tool, f.rule_id, path, snippet)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        fp = code_fingerprint(f.tool, f.rule_id, path, snippet, occurrence)
        loc = f.location and dataclasses.replace(f.location, path=printable_path(f.location.path))
        by_id[id(f)] = dataclasses.replace(f, fingerprint=fp, location=loc)
    return [by_id[id(f)] for f in findings]
