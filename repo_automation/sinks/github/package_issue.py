"""The body of a vulnerable package's one issue: every advisory, the upgrade that fixes them all, the PR.

Users want one issue per vulnerable package, as Dependabot and Renovate group them: a table of its
advisories with their severities and fixes, the lowest version that fixes every one of them, and a link to
the dependency-update pull request when one is open (found by the sink by its deterministic branch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repo_automation.domain import Finding
from repo_automation.package_index import parse_version
from repo_automation.report.escape import escape_code, escape_markdown


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdatePull:
    """An open dependency-update pull request."""

    number: int
    url: str


def _lowest_above(current: str | None, fixed: Sequence[str]) -> str | None:
    """The lowest fixed version above the current one (any, when the current one cannot be read)."""
    now = parse_version(current or "")
    fixes = [(v, text) for text in fixed if (v := parse_version(text)) is not None and (now is None or v > now)]
    return min(fixes)[1] if fixes else None


def fixing_all(group: Sequence[Finding]) -> tuple[str | None, tuple[str, ...]]:
    """The lowest version that fixes every advisory (the highest of each advisory's lowest fix above the
    pinned version), and the advisories no release fixes yet (then no version fixes all)."""
    best: str | None = None
    unfixed: list[str] = []
    for f in group:
        fix = _lowest_above(f.version, f.fixed_versions)
        if fix is None:
            unfixed.append(f.ids[0] if f.ids else f.rule_id)
        elif best is None or parse_version(fix) > parse_version(best):  # type: ignore[operator]
            best = fix
    return (None if unfixed else best), tuple(unfixed)


def package_issue(name: str, group: Sequence[Finding], sev: str, pull: UpdatePull | None
                  ) -> tuple[str, list[str], list[str]]:
    """(title, head lines, one table row per advisory) of the package's issue."""
    ordered = sorted(group, key=lambda f: (-f.severity.rank, f.ids[0] if f.ids else f.rule_id))
    versions = sorted({f.version for f in group if f.version})
    count = f"{len(group)} advisor{'y' if len(group) == 1 else 'ies'}"
    title = f"[{sev}] {name} {', '.join(versions)}: {count}"
    head = [f"**{escape_markdown(sev)}** vulnerable package {escape_code(name)} "
            f"{', '.join(escape_code(v) for v in versions)}: {count}.", "", _upgrade_line(ordered)]
    if pull is not None:
        head.append(f"- Update pull request: #{pull.number}")
    tools = sorted({t for f in group for t in f.tool.split("+")})
    head += [f"- Reported by: {escape_markdown(', '.join(tools))}",
             "", f"### Advisories ({len(group)})", "",
             "| Advisory | Severity | Fixed in | Aliases |", "|---|---|---|---|"]
    return title, head, [_row(f) for f in ordered]


def _upgrade_line(group: Sequence[Finding]) -> str:
    target, unfixed = fixing_all(group)
    if target:
        return f"- Upgrade to {escape_code(target)}: the lowest version that fixes all of them."
    return f"- No release fixes {', '.join(escape_code(i) for i in unfixed)} yet."


def _row(f: Finding) -> str:
    return (f"| {escape_code(f.ids[0] if f.ids else f.rule_id)} | {escape_markdown(f.severity.value)} | "
            f"{', '.join(escape_code(v) for v in f.fixed_versions) or 'no release yet'} | "
            f"{', '.join(escape_code(i) for i in f.ids[1:])} |")
