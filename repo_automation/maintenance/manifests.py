"""Pins in requirements*.txt and pyproject.toml: read them, and rewrite one pin keeping everything else.

A pin is an exact `name==version` requirement. Extras, environment markers and comments stay as they are;
a pin that carries `--hash` options is reported (it cannot be updated without the new files' hashes), and
so are ranges (`>=`, `~=`, several specifiers): they are not rewritten. Rewriting works on text, so the
file's layout, comments and order are kept byte for byte except the version itself.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from repo_automation.errors import ConfigError

log = logging.getLogger(__name__)

PYPROJECT = "pyproject.toml"
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "build", "dist", ".tox", ".nox", "site-packages"})
MAX_DEPTH = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One exact pin, `name` as written, `key` its canonical (PEP 503) form."""

    path: str  # repo-relative POSIX path of the manifest
    name: str
    key: str
    version: str
    line: int  # 1-based line where the requirement starts


@dataclass(frozen=True, slots=True, kw_only=True)
class Unpinned:
    """A requirement that is not updated, and why (a range, hashes, a URL …)."""

    path: str
    requirement: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifests:
    pins: tuple[Pin, ...] = ()
    unpinned: tuple[Unpinned, ...] = ()


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name  # lazily, for start-up time

    return str(canonicalize_name(name))


# -- requirements files --------------------------------------------------------------------------------
def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, joined text) for each logical line; backslash continuations joined."""
    start, parts = 0, list[str]()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\") and not stripped.lstrip().startswith("#"):  # pip: a comment never continues
            parts.append(stripped[:-1])
            continue
        parts.append(raw)
        yield start, " ".join(parts)
        parts = []
    if parts:
        yield start, " ".join(parts)


def _strip_comment(line: str) -> str:
    """pip's rule: a comment starts at '#' at the start of a line or after whitespace."""
    return re.sub(r"(^|\s+)#.*$", "", line)


def _classify(path: str, text: str, line: int) -> Pin | Unpinned | None:
    """A requirement string as a Pin, an Unpinned with the reason, or None (not a requirement)."""
    from packaging.requirements import InvalidRequirement, Requirement  # lazily, for start-up time

    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        return Unpinned(path=path, requirement=text, reason=f"not a requirement pip can read ({e})")
    if req.url:
        return Unpinned(path=path, requirement=text, reason="installed from a URL")
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
        return Pin(path=path, name=req.name, key=canonical(req.name), version=specs[0].version, line=line)
    if not specs:
        return Unpinned(path=path, requirement=text, reason="no version given")
    return Unpinned(path=path, requirement=text, reason="a range, not an exact pin: left as it is")


def parse_requirements(path: str, text: str) -> Manifests:
    pins: list[Pin] = []
    other: list[Unpinned] = []
    for line, logical in _logical_lines(text):
        body = _strip_comment(logical).strip()
        if not body or body.startswith("-"):  # options: -r, -c, -e, --index-url …
            continue
        requirement = body.partition(" --")[0]
        if "--hash" in body:
            other.append(Unpinned(path=path, requirement=requirement.strip(),
                                  reason="pinned with --hash: updating it needs the new files' hashes "
                                         "(regenerate the file with pip-compile --generate-hashes)"))
            continue
        found = _classify(path, requirement.strip(), line)
        if isinstance(found, Pin):
            pins.append(found)
        elif found is not None:
            other.append(found)
    return Manifests(pins=tuple(pins), unpinned=tuple(other))


# -- pyproject.toml ------------------------------------------------------------------------------------
def _pyproject_requirements(data: dict[str, object]) -> list[str]:
    project = data.get("project")
    if not isinstance(project, dict):
        return []
    out = [x for x in project.get("dependencies") or [] if isinstance(x, str)]
    optional = project.get("optional-dependencies") or {}
    if isinstance(optional, dict):
        for group in optional.values():
            out.extend(x for x in group or [] if isinstance(x, str))
    return out


def parse_pyproject(path: str, text: str) -> Manifests:
    """[project] dependencies and optional-dependencies; only exact `==` pins are updated."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    pins: list[Pin] = []
    other: list[Unpinned] = []
    for requirement in _pyproject_requirements(data):
        line = _line_of(text, requirement)
        found = _classify(path, requirement, line)
        if isinstance(found, Pin):
            pins.append(found)
        elif found is not None:
            other.append(found)
    return Manifests(pins=tuple(pins), unpinned=tuple(other))


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 0


def parse_manifest(path: str, text: str) -> Manifests:
    return parse_pyproject(path, text) if Path(path).name == PYPROJECT else parse_requirements(path, text)


# -- rewriting -----------------------------------------------------------------------------------------
def _pin_pattern(name: str, version: str) -> re.Pattern[str]:
    """`name[extras] == version` where name matches in any PEP 503 spelling (case, '-', '_', '.')."""
    parts = [re.escape(p) for p in re.split(r"[-_.]+", name)]
    spelled = r"[-_.]+".join(parts)
    return re.compile(rf"(?i)(?<![\w.-])({spelled}\s*(?:\[[^\]]*\])?\s*==\s*){re.escape(version)}(?![\w.+*])")


def rewrite_pin(path: str, text: str, key: str, old: str, new: str) -> str | None:
    """`text` with the pin of `key` at `old` changed to `new`; None when no such pin is left in it."""
    current = [p for p in parse_manifest(path, text).pins if p.key == key and p.version == old]
    if not current:
        return None
    lines = text.splitlines(keepends=True)
    pattern = _pin_pattern(current[0].name, old)
    changed = False
    for pin in current:
        index = pin.line - 1
        if 0 <= index < len(lines):
            new_line, count = pattern.subn(lambda m: m.group(1) + new, lines[index], count=1)
            if count:
                lines[index] = new_line
                changed = True
    return "".join(lines) if changed else None


# -- finding manifests in a checkout -------------------------------------------------------------------
def find_manifests(workspace: Path, configured: Sequence[str]) -> list[str]:
    """Repo-relative manifest paths: the configured ones (each must exist), else requirements*.txt and
    pyproject.toml found up to MAX_DEPTH folders deep (virtualenvs, node_modules and builds left out)."""
    if configured:
        missing = [p for p in configured if not (workspace / p).is_file()]
        if missing:
            raise ConfigError("automation.dependency_updates.requirements_files names files that do not exist:",
                              [f"{p} (relative to {workspace})" for p in missing])
        return list(dict.fromkeys(configured))

    found: list[str] = []
    for root, dirs, files in os.walk(workspace):
        rel_root = Path(root).relative_to(workspace)
        depth = len(rel_root.parts)
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".") and depth + 1 < MAX_DEPTH)
        for name in sorted(files):
            if name == PYPROJECT or (name.startswith("requirements") and name.endswith(".txt")):
                found.append((rel_root / name).as_posix())
    return sorted(found)
