"""PR mode for dependency manifests: which pins a pull request changed, so only those are audited.

A pin that is the same at head and at base gives the same findings on both sides: auditing it twice only
to mark its findings "existing" is the scheduled full scan's job. So a changed manifest is audited at head
for its added and changed requirements, and at base for its removed and changed ones; a finding on a
changed pin that both sides have is still "existing".

Requirements are compared as requirements, not as text: name (PEP 503), extras, specifier, marker and URL,
so reordering lines, editing comments or refreshing `--hash` options changes nothing. The lines handed to
the auditor are the manifest's own (continuations, markers, extras and hashes kept). A requirements file
that includes others (`-r`, `-c`, `-e`) or whose global options differ between the sides is audited whole.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from repo_automation.discover import is_lock
from repo_automation.errors import ConfigError
from repo_automation.manifests import parse_manifest, pinned_version
from repo_automation.manifests.requirements_txt import is_include, logical_lines, requirement_part

log = logging.getLogger(__name__)

Job = tuple[str, Sequence[str] | None]  # (manifest, the lines to audit; None: the whole file)

_EDITABLE = ("-e", "--editable")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One requirement of a manifest: its text as written (logical line) and what it means."""

    text: str
    key: tuple[str, ...]  # (name, extras, specifier, marker, url); the normalised text when unparsable
    name: str  # PEP 503 name ('' when unparsable)
    pinned: bool = False  # one exact version (manifests.pinned_version)


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirements:
    """A manifest's requirements and global option lines; `whole` says why it cannot be split by pin."""

    entries: tuple[Entry, ...] = ()
    options: tuple[str, ...] = ()
    whole: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PinDiff:
    """What to audit of one changed manifest: head's added/changed pins, base's removed/changed ones."""

    manifest: str
    head: tuple[Entry, ...]
    base: tuple[Entry, ...]
    options: tuple[str, ...]  # the global option lines, repeated in the audited file
    unchanged: int  # requirements present at both sides

    @property
    def changed_names(self) -> list[str]:
        return sorted({e.name or e.text for e in (*self.head, *self.base)})


def entry(text: str) -> Entry:
    from packaging.requirements import InvalidRequirement, Requirement  # lazily, for start-up time
    from packaging.utils import canonicalize_name

    try:
        req = Requirement(requirement_part(text))
    except InvalidRequirement:
        return Entry(text=text, key=(" ".join(text.split()),), name="")
    name = str(canonicalize_name(req.name))
    specifier = ",".join(sorted(str(s) for s in req.specifier))
    return Entry(text=text, key=(name, ",".join(sorted(req.extras)), specifier, str(req.marker or ""),
                                 req.url or ""), name=name, pinned=pinned_version(req) is not None)


def unpinned(e: Entry) -> bool:
    """A requirement pip-audit cannot audit without resolving it: parsed, no URL, and not a pin
    (manifests.pinned_version). Unparsable lines and URL requirements are left to pip-audit to judge."""
    name, url = (e.key[0], e.key[4]) if len(e.key) == 5 else ("", "")
    return bool(name) and not url and not e.pinned


def requirement_text(e: Entry) -> str:
    """The requirement itself, without per-requirement options (`--hash=…`), for messages."""
    return requirement_part(e.text)


def parse_requirements(text: str) -> Requirements:
    entries: list[Entry] = []
    options: list[str] = []
    for logical in logical_lines(text):
        line = logical.body
        if line.startswith("-"):
            if is_include(line) or line.startswith(_EDITABLE):
                flag = line.split()[0].split("=")[0]
                flag = flag if flag.startswith("--") else flag[:2]
                return Requirements(whole=f"it uses {flag}")
            options.append(" ".join(line.split()))
            continue
        entries.append(entry(line))
    return Requirements(entries=tuple(entries), options=tuple(options))


def read_requirements(root: Path, manifest: str) -> Requirements:
    """The manifest's requirements in `root`; a file that does not exist there has none."""
    path = root / manifest
    if not path.is_file():
        return Requirements()
    if is_lock(manifest):
        return Requirements(whole="it is a lock file")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        return Requirements(whole=f"it cannot be read ({e})")
    if PurePosixPath(manifest).name != "pyproject.toml":
        return parse_requirements(text)
    try:
        found = parse_manifest(manifest, text)
    except ConfigError as e:  # audited whole, where the failure is reported as for a full scan
        return Requirements(whole=str(e))
    return Requirements(entries=tuple(entry(r) for r in (*(p.text for p in found.pins),
                                                          *(u.requirement for u in found.unpinned))))


def diff(manifest: str, head: Requirements, base: Requirements) -> PinDiff | str:
    """The pins to audit on each side, or the reason the manifest must be audited whole."""
    if head.whole or base.whole:
        return str(head.whole or base.whole)
    if sorted(head.options) != sorted(base.options):
        return "its global options changed"
    head_keys, base_keys = Counter(e.key for e in head.entries), Counter(e.key for e in base.entries)
    return PinDiff(manifest=manifest, head=_only(head.entries, base_keys), base=_only(base.entries, head_keys),
                   options=head.options, unchanged=sum((head_keys & base_keys).values()))


def _only(entries: Sequence[Entry], other: Counter[tuple[str, ...]]) -> tuple[Entry, ...]:
    """The entries not matched by one in `other` (duplicates counted)."""
    left = Counter(other)
    out = []
    for e in entries:
        if left[e.key] > 0:
            left[e.key] -= 1
        else:
            out.append(e)
    return tuple(out)


def notice(d: PinDiff) -> str:
    """What the report says about the pins PR mode left to the full scan."""
    changed = len(d.changed_names)
    pins = "pin that changed" if changed == 1 else "pins that changed"
    rest = "unchanged pin is" if d.unchanged == 1 else "unchanged pins are"
    return (f"PR mode audited the {changed} {pins} in {d.manifest}; "
            f"the {d.unchanged} {rest} covered by the full scan")


def plan(manifest: str, head_root: Path, base_root: Path) -> tuple[list[Job], list[Job], str | None]:
    """(head's audit jobs, base's audit jobs, the notice for the report) for one changed manifest."""
    d = diff(manifest, read_requirements(head_root, manifest), read_requirements(base_root, manifest))
    if isinstance(d, str):
        log.info("PR mode audits all of %s: %s", manifest, d)
        return ([(manifest, None)] if (head_root / manifest).is_file() else [],
                [(manifest, None)] if (base_root / manifest).is_file() else [], None)
    head: list[Job] = [(manifest, [*d.options, *(e.text for e in d.head)])] if d.head else []
    base: list[Job] = [(manifest, [*d.options, *(e.text for e in d.base)])] if d.base else []
    return head, base, notice(d) if d.unchanged and (d.head or d.base) else None
