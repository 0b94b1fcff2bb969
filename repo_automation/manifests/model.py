"""The manifest model: a Pin (one exact version), an Unpinned requirement (and why), a Manifest of both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One exact pin, `name` as written, `key` its canonical (PEP 503) form."""

    path: str  # repo-relative POSIX path of the manifest
    name: str
    key: str
    version: str
    line: int  # 1-based line where the requirement starts (0: unknown)
    text: str = ""  # the requirement line as pip-audit is given it (options such as --hash kept)
    hashed: bool = False  # carries --hash options


@dataclass(frozen=True, slots=True, kw_only=True)
class Unpinned:
    """A requirement that is not updated, and why (not a pin, a URL, unreadable …)."""

    path: str
    requirement: str
    reason: str
    line: int = 0
    unreadable: bool = False  # a line pip cannot read at all (not a requirement, not an option it knows)


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    pins: tuple[Pin, ...] = ()
    unpinned: tuple[Unpinned, ...] = ()
    options: tuple[str, ...] = ()  # global option lines of a requirements file (--index-url …), includes left out
    includes: tuple[str, ...] = ()  # -r / -c lines of a requirements file, as written
    foreign: str = ""  # why a file named like a manifest is not read as one ("" when it is one)


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name  # lazily, for start-up time

    return str(canonicalize_name(name))


def pinned_version(req: Requirement) -> str | None:
    """The one definition of "pinned": a single `==` specifier without a wildcard, or `===` on a version;
    no URL."""
    from packaging.version import InvalidVersion, Version  # lazily, for start-up time

    specs = list(req.specifier)
    if req.url or len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    try:
        Version(specs[0].version)
    except InvalidVersion:
        return None
    return specs[0].version


def _as_double_equals(req: Requirement, version: str) -> str:
    """An `===` pin as pip-audit audits it: the same requirement with `==` (it refuses `===`)."""
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}=={version}" + (f"; {req.marker}" if req.marker else "")


def not_a_pin(req: Requirement) -> str:
    """Why a parsed requirement is not a pin, for the report."""
    if req.url:
        return "not a pin: installed from a URL"
    specs = list(req.specifier)
    if not specs:
        return "not a pin: no version given"
    if len(specs) == 1 and specs[0].operator == "==" and "*" in specs[0].version:
        return f"not a pin: the wildcard =={specs[0].version} matches many versions"
    if len(specs) == 1 and specs[0].operator in ("==", "==="):
        return f"not a pin: {specs[0].version!r} is not a version"
    return "not a pin: a range, left as it is"


def classify(path: str, text: str, line: int, *, audit_text: str | None = None, hashed: bool = False
             ) -> Pin | Unpinned:
    """A PEP 508 requirement string as a Pin, or an Unpinned with the reason."""
    from packaging.requirements import InvalidRequirement, Requirement  # lazily, for start-up time

    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        why = str(e).splitlines()[0] if str(e) else type(e).__name__  # packaging adds the line and a caret
        return Unpinned(path=path, requirement=text, reason=f"not a requirement pip can read ({why})", line=line,
                        unreadable=True)
    version = pinned_version(req)
    if version is None:
        return Unpinned(path=path, requirement=text, reason=not_a_pin(req), line=line)
    if next(iter(req.specifier)).operator == "===":
        audit_text = _as_double_equals(req, version)
    return Pin(path=path, name=req.name, key=canonical(req.name), version=version, line=line,
               text=audit_text if audit_text is not None else text, hashed=hashed)
