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
import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from repo_automation.discover import is_pylock
from repo_automation.errors import SourceFailed

log = logging.getLogger(__name__)

Job = tuple[str, Sequence[str] | None]  # (manifest, the lines to audit; None: the whole file)

_COMMENT = re.compile(r"(^|\s+)#.*$")
_PER_REQ_OPTION = re.compile(r"\s+--?[A-Za-z]")  # --hash=…, --config-settings …: not part of the requirement
_INCLUDES = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable")
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*===?\s*([^\s;,]+)\s*(;.*)?$")  # name==version


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One requirement of a manifest: its text as written (logical line) and what it means."""

    text: str
    key: tuple[str, ...]  # (name, extras, specifier, marker, url); the normalised text when unparsable
    name: str  # PEP 503 name ('' when unparsable)


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

    requirement = _PER_REQ_OPTION.split(text, maxsplit=1)[0].strip()
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return Entry(text=text, key=(" ".join(text.split()),), name="")
    name = str(canonicalize_name(req.name))
    specifier = ",".join(sorted(str(s) for s in req.specifier))
    return Entry(text=text, key=(name, ",".join(sorted(req.extras)), specifier, str(req.marker or ""),
                                 req.url or ""), name=name)


def unpinned(e: Entry) -> bool:
    """A requirement pip-audit cannot audit without resolving it: parsed, no URL, not one exact `==` version.

    Unparsable lines and URL requirements are left to pip-audit to judge (it names what it skips)."""
    name, _, specifier, _, url = e.key if len(e.key) == 5 else ("", "", "", "", "")
    if not name or url:
        return False
    return not (specifier.startswith("==") and "," not in specifier and "*" not in specifier)


def requirement_text(e: Entry) -> str:
    """The requirement itself, without per-requirement options (`--hash=…`), for messages."""
    return _PER_REQ_OPTION.split(e.text, maxsplit=1)[0].strip()


def logical_lines(text: str) -> list[str]:
    """pip's reading of a requirements file: continuations joined, comments and blank lines dropped."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        line = _COMMENT.sub("", line).strip()
        if line:
            out.append(line)
    if pending.strip():
        out.append(_COMMENT.sub("", pending).strip())
    return [ln for ln in out if ln]


def parse_requirements(text: str) -> Requirements:
    entries: list[Entry] = []
    options: list[str] = []
    for line in logical_lines(text):
        if line.startswith("-"):
            flag = re.split(r"[\s=]", line, maxsplit=1)[0]
            include = next((i for i in _INCLUDES if flag == i or (len(i) == 2 and flag.startswith(i))), None)
            if include:
                return Requirements(whole=f"it uses {include}")
            options.append(" ".join(line.split()))
            continue
        entries.append(entry(line))
    return Requirements(entries=tuple(entries), options=tuple(options))


def pyproject_pins(path: Path) -> tuple[list[str], list[str]]:
    """(pinned requirement lines, unpinned requirement strings) of a pyproject's [project] tables."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as e:
        raise SourceFailed(f"{path.name} cannot be read: {e}") from e
    project = data.get("project")
    if not isinstance(project, dict):
        project = {}
    reqs = [r for r in project.get("dependencies", []) if isinstance(r, str)]
    for extra in (project.get("optional-dependencies") or {}).values():
        reqs += [r for r in extra if isinstance(r, str)]
    pinned = [r for r in reqs if PIN.match(r)]
    return pinned, [r for r in reqs if not PIN.match(r)]


def read_requirements(root: Path, manifest: str) -> Requirements:
    """The manifest's requirements in `root`; a file that does not exist there has none."""
    path = root / manifest
    if not path.is_file():
        return Requirements()
    if is_pylock(manifest):
        return Requirements(whole="it is a lock file")
    if PurePosixPath(manifest).name == "pyproject.toml":
        try:
            pinned, unpinned = pyproject_pins(path)
        except SourceFailed as e:  # audited whole, where the failure is reported as for a full scan
            return Requirements(whole=str(e))
        return Requirements(entries=tuple(entry(r) for r in (*pinned, *unpinned)))
    try:
        return parse_requirements(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as e:
        return Requirements(whole=f"it cannot be read ({e})")


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
