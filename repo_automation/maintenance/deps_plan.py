"""Dependency updates, planned purely: pins + the versions the index lists + findings + policy -> Changes.

For each pin, one update per allowed bucket (maintenance/buckets.py: newest patch, newest minor, newest
major) and, when the pinned version has advisories, a security update to the lowest release that fixes all
of them. Each lands on its own deterministic branch, `repo-automation/deps/<package>-<bucket>` (or
`-security`): a newer release in the same bucket updates that pull request in place, and a rerun finds it
instead of opening another. All manifests that pin the package at that version change together. Buckets
named in `group` are carried by one pull request per bucket (`repo-automation/deps/group-<bucket>`).
`security_updates.auto_merge` decides the merge of a security update, the bucket's `auto_merge` setting
the others; a hashed pin whose new hashes are not known, or a lock file the update leaves stale, is never
merged automatically and its pull request says what to regenerate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from repo_automation.domain import Finding
from repo_automation.github.fingerprint import make_fingerprint, with_marker
from repo_automation.maintenance.buckets import Bucket, Rules, choose
from repo_automation.maintenance.changes import BRANCH_PREFIX, Change, FileEdit
from repo_automation.manifests import Pin, canonical, parse_manifest, rewrite_pin
from repo_automation.package_index import Release
from repo_automation.report.escape import escape_code, escape_markdown

if TYPE_CHECKING:
    from repo_automation.config.sections import DependencyUpdates

DEPS_BRANCH = BRANCH_PREFIX + "deps/"
SECURITY = "security"


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

    def allows(self, level: Bucket, security: bool) -> tuple[bool, str]:
        if security:
            return self.security, f"security update: security_updates.auto_merge is {str(self.security).lower()}"
        allowed = {Bucket.PATCH: self.patch, Bucket.MINOR: self.minor, Bucket.MAJOR: self.major}[level]
        return allowed, f"{level} update: auto_merge.{level} is {str(allowed).lower()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    key: str  # canonical package name
    name: str  # as first written
    current: str
    target: str
    level: Bucket
    pins: tuple[Pin, ...]
    advisories: tuple[str, ...] = ()  # ids of the advisories this update fixes (a security update)
    hashes: tuple[str, ...] = ()  # the target's sha256 digests, for hashed pins
    suffix: str = ""  # set when the package is pinned at several versions: the branch names the current one

    @property
    def bucket(self) -> str:
        return SECURITY if self.advisories else str(self.level)

    @property
    def branch(self) -> str:
        return f"{DEPS_BRANCH}{make_fingerprint(self.key)}-{self.bucket}{self.suffix}"

    @property
    def stale_hashes(self) -> bool:
        return any(p.hashed for p in self.pins) and not self.hashes


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    updates: list[Update] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # versions not proposed, and why


def advisories_for(findings: Iterable[Finding], key: str, version: str) -> tuple[list[str], list[list[str]]]:
    """(advisory ids, the fixed versions of each) of the active vulnerability findings for this pin."""
    ids: list[str] = []
    fixed: list[list[str]] = []
    for f in findings:
        if f.package is None or canonical(f.package) != key or f.state in ("ignored", "fixed", "baseline"):
            continue
        if f.version is not None and f.version != version:
            continue
        advisory = f.ids[0] if f.ids else f.rule_id
        if advisory not in ids:
            ids.append(advisory)
            fixed.append(list(f.fixed_versions))
    return ids, fixed


def plan_updates(pins: Sequence[Pin], releases: Mapping[str, Sequence[Release]], rules: Rules,
                 findings: Sequence[Finding] = ()) -> Plan:
    """The updates per (package, pinned version): security first, then the buckets."""
    groups: dict[tuple[str, str], list[Pin]] = {}
    for pin in pins:
        groups.setdefault((pin.key, pin.version), []).append(pin)
    versions: dict[str, int] = {}
    for key, _ in groups:
        versions[key] = versions.get(key, 0) + 1
    out = Plan()
    for (key, version), group in sorted(groups.items()):
        available = releases.get(key)
        if not available:
            continue
        ids, fixed = advisories_for(findings, key, version)
        chosen, notes = choose(key, version, available, rules, fixed if any(fixed) else ())
        out.notes.extend(notes)
        suffix = f"-from-{make_fingerprint(version)}" if versions[key] > 1 else ""
        for n, choice in enumerate(chosen):
            security = bool(ids) and any(fixed) and n == 0 and _is_fix(choice.version, fixed)
            out.updates.append(Update(key=key, name=group[0].name, current=version, target=choice.version,
                                      level=choice.bucket, pins=tuple(group),
                                      advisories=tuple(ids) if security else (),
                                      hashes=choice.release.hashes, suffix=suffix))
    order = [SECURITY, *Bucket]
    out.updates.sort(key=lambda u: (not u.advisories, u.key, order.index(u.bucket)))
    return out


def _is_fix(target: str, fixed: Sequence[Sequence[str]]) -> bool:
    from repo_automation.package_index import parse_version

    t = parse_version(target)
    return t is not None and all(any((f := parse_version(x)) is not None and t >= f for x in fs) for fs in fixed if fs)


def _edit(pin_path: str, update: Update) -> FileEdit:
    key, old, new = update.key, update.current, update.target

    def transform(text: str | None) -> str | None:
        return None if text is None else rewrite_pin(pin_path, text, key, old, new, update.hashes)

    def satisfied(text: str | None) -> bool:
        if text is None:
            return False
        versions = {p.version for p in parse_manifest(pin_path, text).pins if p.key == key}
        return new in versions and old not in versions

    return FileEdit(path=pin_path, transform=transform, satisfied=satisfied,
                    message=f"Bump {key} from {old} to {new} in {pin_path}")


def _summary(update: Update) -> list[str]:
    paths = sorted({p.path for p in update.pins})
    kind = "security" if update.advisories else str(update.level)
    lines = [f"- **{escape_markdown(update.name)}** {escape_code(update.current)} → {escape_code(update.target)} "
             f"({kind} update) in " + ", ".join(escape_code(p) for p in paths)]
    if update.advisories:
        lines.append("  - Fixes: " + ", ".join(escape_markdown(a) for a in update.advisories))
    if update.stale_hashes:
        lines.append("  - The `--hash` options need regenerating (`pip-compile --generate-hashes`): the index "
                     "gave no hashes for the new version.")
    return lines


def _decision(updates: Sequence[Update], policy: MergePolicy, stale_locks: Sequence[str]) -> tuple[bool, str]:
    """Merge or not, and why: the bucket's (or security) policy, unless the change cannot stand alone."""
    merge, why = policy.allows(updates[0].level, any(u.advisories for u in updates))
    if merge and any(u.stale_hashes for u in updates):
        return False, why + "; not merged automatically: the hashes need regenerating"
    if merge and stale_locks:
        return False, why + "; not merged automatically: a lock file needs a refresh"
    return merge, why


def _title(updates: Sequence[Update]) -> str:
    first = updates[0]
    if len(updates) > 1:
        return f"Bump {len(updates)} dependencies ({first.bucket} updates)"
    return f"Bump {first.name} from {first.current} to {first.target}" + (" (security)" if first.advisories else "")


def change_for(updates: Sequence[Update], policy: MergePolicy, *, branch: str | None = None,
               locks: Mapping[str, Sequence[str]] | None = None) -> Change:
    """One pull request carrying `updates` (one, or a group of one bucket). `locks`: the lock files each
    manifest path leaves stale."""
    security = any(u.advisories for u in updates)
    stale_locks = sorted({lock for u in updates for p in u.pins for lock in (locks or {}).get(p.path, ())})
    merge, why = _decision(updates, policy, stale_locks)
    lines = ["Updates:", ""]
    for u in updates:
        lines += _summary(u)
    if stale_locks:  # our own words: a lock path and its command
        lines += ["", "Lock files to refresh on this branch before merging: " + ", ".join(stale_locks) + "."]
    lines += ["", f"Merge policy: {why} — " + ("GitHub merges it once the required checks pass (auto-merge)."
                                               if merge else "left for review.")]
    branch = branch or updates[0].branch
    edits = tuple(_edit(p, u) for u in updates for p in sorted({pin.path for pin in u.pins}))
    return Change(kind="dependencies", branch=branch, title=_title(updates),
                  body=with_marker("\n".join(lines), make_fingerprint("deps", *branch.split("/"))),
                  edits=_merged(edits), merge=merge, merge_reason=why, declined_when_closed=True,
                  labels=("dependencies", "security") if security else ("dependencies",))


def _merged(edits: Sequence[FileEdit]) -> tuple[FileEdit, ...]:
    """Edits of one file chained into one (a group moves several pins in one manifest)."""
    by_path: dict[str, list[FileEdit]] = {}
    for e in edits:
        by_path.setdefault(e.path, []).append(e)
    return tuple(group[0] if len(group) == 1 else _chained(path, group) for path, group in by_path.items())


def _chained(path: str, group: Sequence[FileEdit]) -> FileEdit:
    def transform(text: str | None) -> str | None:
        current, changed = text, False
        for e in group:
            new = e.transform(current)
            if new is not None:
                current, changed = new, True
        return current if changed else None

    def satisfied(text: str | None) -> bool:
        return all(e.satisfied is not None and e.satisfied(text) for e in group)

    return FileEdit(path=path, transform=transform, satisfied=satisfied, message="; ".join(e.message for e in group))


def grouped(updates: Sequence[Update], group: Sequence[str], policy: MergePolicy,
            locks: Mapping[str, Sequence[str]] | None = None) -> list[Change]:
    """The run's changes: each update alone, except the buckets in `group`, one pull request per bucket."""
    together: dict[str, list[Update]] = {}
    slots: list[Update | str] = []  # an update alone, or the name of a grouped bucket where it first appears
    for u in updates:
        if u.bucket in group:
            if u.bucket not in together:
                slots.append(u.bucket)
            together.setdefault(u.bucket, []).append(u)
        else:
            slots.append(u)
    return [change_for([s], policy, locks=locks) if isinstance(s, Update)
            else change_for(together[s], policy, branch=f"{DEPS_BRANCH}group-{s}", locks=locks) for s in slots]


def stale_pulls(open_branches: Iterable[str], changes: Sequence[Change]) -> list[tuple[str, str]]:
    """(open branch, why it is closed): an update branch this run does not propose any more (the default
    branch caught up, or a grouping changed)."""
    proposed = {c.branch for c in changes}
    return [(b, "Up to date: this update is no longer needed (the default branch has it, or it moved "
                "to another pull request).") for b in open_branches if b not in proposed]
