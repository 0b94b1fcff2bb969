"""Docs upkeep, pure: the README health badge and CHANGELOG.md's `## Unreleased` section.

The badge is a shields.io static badge (score and a colour by grade) kept between
`<!-- repo-automation:badge -->` and `<!-- /repo-automation:badge -->`; everything outside the markers is
left alone (a README without them gets the badge under its first heading). The changelog lists what the
default branch gained since the last tag, read from the local history along the first parent: merged pull
requests (merge commits, squash merges ending in `(#N)`) and conventional commits — feat under Added, fix
under Fixed, the rest under Changed; chores, CI, tests, style, build and docs commits are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from repo_automation.domain import Health
from repo_automation.errors import SourceFailed
from repo_automation.gitutil import run_git
from repo_automation.report.views import fully_measured, measured_text

BADGE_START = "<!-- repo-automation:badge -->"
BADGE_END = "<!-- /repo-automation:badge -->"
COLORS = {"A": "brightgreen", "B": "green", "C": "yellow", "D": "orange", "F": "red"}
UNRELEASED = "## Unreleased"
MAX_COMMITS = 1000

_CONVENTIONAL = re.compile(r"^(?P<type>[a-zA-Z]+)(?:\([^)]*\))?(?P<bang>!)?:\s*(?P<text>.+)$")
_PR_SUFFIX = re.compile(r"\s*\(#(?P<n>\d+)\)\s*$")
_MERGE_PR = re.compile(r"^Merge pull request #(?P<n>\d+) from (?P<branch>\S+)")
_SECTIONS = {"feat": "Added", "fix": "Fixed"}
_LEFT_OUT = frozenset({"chore", "ci", "test", "tests", "style", "build", "docs"})
_ORDER = ("Added", "Changed", "Fixed")


# -- badge ---------------------------------------------------------------------------------------------
def _shields(text: str) -> str:
    """A shields.io static-badge path segment: '-' and '_' doubled, the rest percent-encoded."""
    return quote(text.replace("-", "--").replace("_", "__"), safe="")


def badge_message(health: Health) -> str:
    """The badge's text: "92 (A)" when every category was scored on full evidence, else how much was:
    "100 (A), 1 of 4 categories, partial"."""
    scored, weighing, _ = health.measured()
    text = f"{round(health.overall or 0)} ({health.grade})"
    if scored < weighing:
        text += f", {scored} of {weighing} categories"
    return text + (", partial" if health.partial else "")


def badge_json(health: Health) -> dict[str, object] | None:
    """A shields.io endpoint document (schemaVersion 1) for the health score; None when there is no score."""
    if health.overall is None or health.grade is None:
        return None
    return {"schemaVersion": 1, "label": "health", "message": badge_message(health),
            "color": COLORS.get(health.grade, "lightgrey")}


def badge_markdown(health: Health, *, link: str | None = None) -> str | None:
    doc = badge_json(health)
    if doc is None:
        return None
    url = f"https://img.shields.io/badge/{_shields('health')}-{_shields(str(doc['message']))}-{doc['color']}"
    alt = f"{round(health.overall or 0)}/100, grade {health.grade}"
    if not fully_measured(health):
        alt += ", " + measured_text(health).replace("[", "(").replace("]", ")")
    image = f"![Repository health: {alt}]({url})"
    return f"[{image}]({link})" if link else image


def with_badge(readme: str | None, badge: str) -> str | None:
    """README text with the badge between the markers; None when there is no README."""
    if readme is None:
        return None
    block = f"{BADGE_START}\n{badge}\n{BADGE_END}"
    start = readme.find(BADGE_START)
    if start >= 0:
        end = readme.find(BADGE_END, start)
        stop = end + len(BADGE_END) if end >= 0 else start + len(BADGE_START)
        return readme[:start] + block + readme[stop:]
    lines = readme.splitlines(keepends=True)
    if lines and lines[0].startswith("# "):
        first = lines[0] if lines[0].endswith("\n") else lines[0] + "\n"
        return first + "\n" + block + "\n" + "".join(lines[1:])
    return block + "\n\n" + readme


# -- changelog -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    section: str  # Added | Changed | Fixed
    text: str
    pull: int | None = None


def _clean(text: str) -> str:
    """Commit text as one inert Markdown line (no HTML, so no marker can be smuggled in)."""
    return " ".join(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").split())


def entry_for(subject: str, body: str, parents: int) -> Entry | None:
    """The changelog line for one first-parent commit, or None when it is not for the changelog."""
    merge = _MERGE_PR.match(subject)
    if merge and parents > 1:
        title = next((line.strip() for line in body.splitlines() if line.strip()), merge.group("branch"))
        found = entry_for(title, "", 1)
        return Entry(section=found.section if found else "Changed", text=found.text if found else _clean(title),
                     pull=int(merge.group("n")))
    pr = _PR_SUFFIX.search(subject)
    number = int(pr.group("n")) if pr else None
    text = _PR_SUFFIX.sub("", subject)
    conv = _CONVENTIONAL.match(text)
    if conv:
        kind = conv.group("type").lower()
        if kind in _LEFT_OUT:
            return None
        return Entry(section=_SECTIONS.get(kind, "Changed"), text=_clean(conv.group("text")), pull=number)
    return Entry(section="Changed", text=_clean(text), pull=number) if number is not None else None


def read_entries(workspace: Path) -> tuple[list[Entry], str | None]:
    """Entries since the last tag (newest first) and that tag (None: no tag, the whole history)."""
    if run_git(["rev-parse", "--is-shallow-repository"], workspace, timeout=30).strip() == "true":
        raise SourceFailed("shallow clone: check out with fetch-depth: 0 so the history and tags are there")
    try:
        tag: str | None = run_git(["describe", "--tags", "--abbrev=0"], workspace, timeout=30).strip() or None
    except SourceFailed:
        tag = None
    span = [f"{tag}..HEAD"] if tag else ["HEAD"]
    raw = run_git(["log", "--first-parent", f"--max-count={MAX_COMMITS}", "--format=%P%x1f%s%x1f%b%x1e", *span],
                  workspace, timeout=60, errors="replace")
    entries = []
    for record in raw.split("\x1e"):
        parts = record.strip("\n").split("\x1f")
        if len(parts) < 3:
            continue
        found = entry_for(parts[1], parts[2], len(parts[0].split()))
        if found is not None:
            entries.append(found)
    return entries, tag


def render_unreleased(entries: Sequence[Entry]) -> str:
    lines = [UNRELEASED, ""]
    for section in _ORDER:
        items = [e for e in entries if e.section == section]
        if items:
            lines += [f"### {section}", ""]
            lines += [f"- {e.text}" + (f" (#{e.pull})" if e.pull is not None else "") for e in items]
            lines.append("")
    return "\n".join(lines)


def with_unreleased(changelog: str | None, section: str) -> str:
    """CHANGELOG text whose `## Unreleased` section is `section` (a new file when there is none)."""
    if changelog is None:
        return f"# Changelog\n\n{section}"
    lines = changelog.splitlines(keepends=True)
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    mine = next((i for i in heads if line_is_unreleased(lines[i])), None)
    if mine is not None:
        after = next((i for i in heads if i > mine), len(lines))
        return "".join(lines[:mine]) + section + ("\n" if after < len(lines) else "") + "".join(lines[after:])
    if heads:
        return "".join(lines[:heads[0]]) + section + "\n" + "".join(lines[heads[0]:])
    return changelog.rstrip("\n") + "\n\n" + section


def line_is_unreleased(line: str) -> bool:
    return line.strip().lower().replace("[", "").replace("]", "") == UNRELEASED.lower()
