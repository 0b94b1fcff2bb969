"""Dependency updates, planned purely: pins + the versions the index lists + findings + policy -> Changes.

One pull request per package (all the manifests that pin it change together), on the branch
`repo-automation/deps/<package>-<version>`: the same update always lands on the same branch, so a rerun
finds its pull request instead of opening another one. The level follows semver on the release numbers
(a 0.y bump counts as major: semver promises nothing below 1.0). A vulnerability finding for the pinned
version makes it a security update: the target is then the lowest release that fixes every advisory, and
`security_updates.auto_merge` decides the merge instead of the level's setting.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from repo_automation.domain import Finding
from repo_automation.github.fingerprint import make_fingerprint, with_marker
from repo_automation.maintenance.changes import BRANCH_PREFIX, Change, FileEdit
from repo_automation.maintenance.manifests import Pin, canonical, parse_manifest, rewrite_pin
from repo_automation.package_index import Release, lowest_fixed, newest, parse_version
from repo_automation.report.escape import escape_code, escape_markdown

if TYPE_CHECKING:
    from packaging.version import Version

    from repo_automation.config.sections import DependencyUpdates

DEPS_BRANCH = BRANCH_PREFIX + "deps/"


class Level(enum.StrEnum):
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"


@dataclass(frozen=True, slots=True, kw_only=True)
class MergePolicy:
    patch: bool
    minor: bool
    major: bool
    security: bool

    @classmethod
    def from_config(cls, section: DependencyUpdates) -> MergePolicy:
        auto = section.auto_merge
        return cls(patch=auto.patch, minor=auto.minor, major=auto.major, security=section.security_updates.auto_merge)

    def allows(self, level: Level, security: bool) -> tuple[bool, str]:
        if security:
            return self.security, f"security update: security_updates.auto_merge is {str(self.security).lower()}"
        allowed = {Level.PATCH: self.patch, Level.MINOR: self.minor, Level.MAJOR: self.major}[level]
        return allowed, f"{level} update: auto_merge.{level} is {str(allowed).lower()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    key: str  # canonical package name
    name: str  # as first written
    current: str
    target: str
    level: Level
    pins: tuple[Pin, ...]
    advisories: tuple[str, ...] = ()  # ids of the advisories this update fixes

    @property
    def branch(self) -> str:
        return f"{DEPS_BRANCH}{make_fingerprint(self.key)}-{make_fingerprint(self.target)}"


def level_of(current: str, target: str) -> Level:
    old, new = parse_version(current), parse_version(target)
    if old is None or new is None:
        return Level.MAJOR
    a = (*old.release, 0, 0)[:3]
    b = (*new.release, 0, 0)[:3]
    if a[0] != b[0] or (a[0] == 0 and a[1] != b[1]):
        return Level.MAJOR
    return Level.MINOR if a[1] != b[1] else Level.PATCH


def advisories_for(findings: Iterable[Finding], key: str, version: str) -> tuple[list[str], list[str]]:
    """(advisory ids, fixed versions) of the active vulnerability findings for this pinned version."""
    ids: list[str] = []
    fixed: list[str] = []
    for f in findings:
        if f.package is None or canonical(f.package) != key or f.state in ("ignored", "fixed", "baseline"):
            continue
        if f.version is not None and f.version != version:
            continue
        ids.append(f.ids[0] if f.ids else f.rule_id)
        fixed.extend(f.fixed_versions)
    return list(dict.fromkeys(ids)), fixed


def plan_updates(pins: Sequence[Pin], releases: Mapping[str, Sequence[Release]],
                 findings: Sequence[Finding] = ()) -> list[Update]:
    """One update per package whose pins can move up. Packages pinned to different versions in different
    files are updated per version (each group its own pull request)."""
    groups: dict[tuple[str, str], list[Pin]] = {}
    for pin in pins:
        groups.setdefault((pin.key, pin.version), []).append(pin)
    out: list[Update] = []
    for (key, version), group in sorted(groups.items()):
        available = releases.get(key)
        if not available:
            continue
        ids, fixed = advisories_for(findings, key, version)
        target = (lowest_fixed(available, version, fixed) if fixed else None) or newest(available, version)
        if target is None:
            continue
        fixes = tuple(ids) if fixed and _fixes(target, fixed) else ()
        out.append(Update(key=key, name=group[0].name, current=version, target=target,
                          level=level_of(version, target), pins=tuple(group), advisories=fixes))
    return out


def _fixes(target: str, fixed: Sequence[str]) -> bool:
    t = parse_version(target)
    return t is not None and any((v := parse_version(f)) is not None and t >= v for f in fixed)


def _edit(pin_path: str, key: str, old: str, new: str) -> FileEdit:
    def transform(text: str | None) -> str | None:
        return None if text is None else rewrite_pin(pin_path, text, key, old, new)

    def satisfied(text: str | None) -> bool:
        if text is None:
            return False
        versions = {p.version for p in parse_manifest(pin_path, text).pins if p.key == key}
        return new in versions and old not in versions

    return FileEdit(path=pin_path, transform=transform, satisfied=satisfied,
                    message=f"Bump {key} from {old} to {new} in {pin_path}")


def change_for(update: Update, policy: MergePolicy) -> Change:
    security = bool(update.advisories)
    merge, why = policy.allows(update.level, security)
    title = f"Bump {update.name} from {update.current} to {update.target}" + (" (security)" if security else "")
    paths = sorted({p.path for p in update.pins})
    lines = [f"Updates **{escape_markdown(update.name)}** from {escape_code(update.current)} to "
             f"{escape_code(update.target)} ({update.level} update).", "", "Files:"]
    lines += [f"- {escape_code(p)}" for p in paths]
    if security:
        lines += ["", "Fixes: " + ", ".join(escape_markdown(a) for a in update.advisories)]
    lines += ["", f"Merge policy: {why} — " + ("merged automatically once GitHub allows (required checks "
                                               "and reviews still apply)." if merge else "left for review.")]
    body = with_marker("\n".join(lines), make_fingerprint("deps", update.key, update.target))
    labels = ("dependencies", "security") if security else ("dependencies",)
    return Change(kind="dependencies", branch=update.branch, title=title, body=body,
                  edits=tuple(_edit(p, update.key, update.current, update.target) for p in paths),
                  merge=merge, merge_reason=why, declined_when_closed=True, labels=labels)


def _branch_version(branch: str, key: str) -> Version | None:
    prefix = f"{DEPS_BRANCH}{make_fingerprint(key)}-"
    return parse_version(branch[len(prefix):]) if branch.startswith(prefix) else None


def stale_pulls(open_branches: Iterable[str], pins: Sequence[Pin], updates: Sequence[Update]
                ) -> list[tuple[str, str]]:
    """(open branch, why it is closed): another version is proposed now, or the default branch already
    pins that version or a newer one."""
    proposed = {u.key: u for u in updates}
    pinned: dict[str, list[Version]] = {}
    for pin in pins:
        if (v := parse_version(pin.version)) is not None:
            pinned.setdefault(pin.key, []).append(v)
    out = []
    for branch in open_branches:
        for key in sorted(set(pinned) | set(proposed)):
            version = _branch_version(branch, key)
            if version is None:
                continue
            update = proposed.get(key)
            if update is not None and branch != update.branch:
                out.append((branch, f"Superseded: {update.name} {update.target} is proposed on {update.branch}."))
            elif update is None and pinned.get(key) and min(pinned[key]) >= version:
                out.append((branch, f"Up to date: the default branch pins {key} {min(pinned[key])} already."))
            break
    return out
