"""Which versions to propose for one pin: Renovate's buckets, a minimum release age, no known advisory.

Every release above the pin that is neither yanked nor (unless the pin is one) a pre-release is a
candidate. Each falls into one bucket by semver on its release numbers: patch (same major and minor), minor
(same major), major (a 0.y bump counts as major: semver promises nothing below 1.0). Per allowed bucket the
newest candidate is proposed, once it is at least `min_age` old and has no advisory of its own (else the
next newest in that bucket). A security update goes to the lowest candidate that fixes every advisory of
the pin and has none of its own; it waits for `security_min_age` (0 by default: no cooldown).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from repo_automation.package_index import Release, parse_version

if TYPE_CHECKING:
    from packaging.version import Version

Uploaded = Callable[[Release], datetime | None]  # when a release was published (None: not known)
Advisories = Callable[[str, str], tuple[str, ...] | None]  # (package, version) -> advisory ids (None: unknown)


class Bucket(enum.StrEnum):
    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    buckets: tuple[Bucket, ...]
    min_age: timedelta
    security_min_age: timedelta
    now: datetime
    uploaded: Uploaded
    advisories: Advisories | None = None  # None: targets are not checked (no vulnerability service)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    version: str
    release: Release
    bucket: Bucket


def bucket_of(current: str, target: str) -> Bucket:
    old, new = parse_version(current), parse_version(target)
    if old is None or new is None:
        return Bucket.MAJOR
    a = (*old.release, 0, 0)[:3]
    b = (*new.release, 0, 0)[:3]
    if a[0] != b[0] or (a[0] == 0 and a[1] != b[1]):
        return Bucket.MAJOR
    return Bucket.MINOR if a[1] != b[1] else Bucket.PATCH


def candidates(releases: Iterable[Release], current: str) -> list[tuple[Version, Release]]:
    """Releases above `current`, oldest first: yanked ones never, pre-releases only from a pre-release."""
    now = parse_version(current)
    out = []
    for r in releases:
        v = parse_version(r.version)
        if v is None or r.yanked or (v.is_prerelease and not (now is not None and now.is_prerelease)):
            continue
        if now is None or v > now:
            out.append((v, r))
    return sorted(out, key=lambda pair: pair[0])


def _fixes_all(version: Version, fixed_sets: Sequence[Sequence[str]]) -> bool:
    """At or above one fixed version of every advisory (each advisory lists its fixed versions)."""
    def at_least(fixes: Sequence[str]) -> bool:
        return any((f := parse_version(x)) is not None and version >= f for x in fixes)
    return all(at_least(fixes) for fixes in fixed_sets if fixes)


def _old_enough(release: Release, rules: Rules, min_age: timedelta) -> bool:
    if min_age <= timedelta(0):
        return True
    when = rules.uploaded(release)
    return when is None or rules.now - when >= min_age


def choose(key: str, current: str, releases: Sequence[Release], rules: Rules,
           fixed_sets: Sequence[Sequence[str]] = ()) -> tuple[list[Choice], list[str]]:
    """(what to propose for this pin, why other versions were not): the security update when the pin has
    advisories (`fixed_sets`: the fixed versions of each), then the newest of each allowed bucket above it."""
    notes: list[str] = []
    pool = candidates(releases, current)
    chosen: list[Choice] = []
    floor: Version | None = None
    if fixed_sets:
        for v, r in pool:
            if _fixes_all(v, fixed_sets) and _clean(key, r, rules, rules.security_min_age, notes):
                chosen.append(Choice(version=r.version, release=r, bucket=bucket_of(current, r.version)))
                floor = v
                break
        else:
            notes.append(f"{key} {current}: no release fixes every advisory yet")
    for bucket in rules.buckets:
        for v, r in reversed(pool):
            if bucket_of(current, r.version) is not bucket or (floor is not None and v <= floor):
                continue
            if _clean(key, r, rules, rules.min_age, notes):
                chosen.append(Choice(version=r.version, release=r, bucket=bucket))
                break
    return chosen, list(dict.fromkeys(notes))


def _clean(key: str, release: Release, rules: Rules, min_age: timedelta, notes: list[str]) -> bool:
    """Old enough and without an advisory of its own; else a note says why it is not proposed."""
    if not _old_enough(release, rules, min_age):
        days = min_age.total_seconds() / 86400
        notes.append(f"{key} {release.version} is newer than the minimum release age ({days:g} days): "
                     "not proposed yet")
        return False
    if rules.advisories is not None:
        found = rules.advisories(key, release.version)
        if found is None:
            notes.append(f"{key} {release.version}: its advisories could not be checked (the vulnerability "
                         "service did not answer); proposed unchecked")
        elif found:
            notes.append(f"{key} {release.version} has advisories of its own ({', '.join(found)}): skipped")
            return False
    return True
