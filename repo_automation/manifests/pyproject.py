"""pyproject.toml through tomlkit: PEP 621 dependencies and optional-dependencies, PEP 735 dependency-groups,
Poetry's tool.poetry.dependencies, dev-dependencies and group.*.dependencies.

tomlkit keeps the document as written, so a rewrite replaces the pinned string values alone: comments,
order, quoting and other tables are left byte for byte (a comment that mentions a pin is never edited).
A Poetry version is a pin when it is one exact version (`"1.2.3"` or `"==1.2.3"`); `^`, `~`, `*` and ranges
are not pins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from repo_automation.errors import ConfigError
from repo_automation.manifests.model import Manifest, Pin, Unpinned, canonical, classify

Slot = tuple[Any, Any, str]  # (container, key or index, text: the PEP 508 or Poetry requirement as it reads)


def _load(path: str, text: str) -> Any:
    import tomlkit  # lazily, for start-up time
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text)
    except TOMLKitError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e


def _strings(container: Any) -> Iterator[Slot]:
    if isinstance(container, list):
        for index, item in enumerate(container):
            if isinstance(item, str):
                yield container, index, str(item)


def _pep_slots(doc: Any) -> Iterator[Slot]:
    project = doc.get("project")
    if isinstance(project, dict):
        yield from _strings(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group in optional.values():
                yield from _strings(group)
    groups = doc.get("dependency-groups")
    if isinstance(groups, dict):
        for group in groups.values():
            yield from _strings(group)  # {include-group = …} tables are not requirements


def _poetry_tables(doc: Any) -> Iterator[Any]:
    tool = doc.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if not isinstance(poetry, dict):
        return
    for name in ("dependencies", "dev-dependencies"):
        if isinstance(poetry.get(name), dict):
            yield poetry[name]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for group in groups.values():
            if isinstance(group, dict) and isinstance(group.get("dependencies"), dict):
                yield group["dependencies"]


def poetry_version(spec: str) -> str | None:
    """The exact version of a Poetry constraint, or None when it is not one version."""
    text = spec.strip()
    text = text[2:].strip() if text.startswith("==") else text
    from packaging.version import InvalidVersion, Version  # lazily, for start-up time

    if not text or re.search(r"[\s^~*<>=!,|]", text):
        return None
    try:
        Version(text)
    except InvalidVersion:
        return None
    return text


def _poetry_slots(doc: Any) -> Iterator[tuple[Any, Any, str, str]]:
    """(container, key, the version text, the package name) of each Poetry dependency given a version."""
    for table in _poetry_tables(doc):
        for name, value in table.items():
            if canonical(name) == "python":
                continue
            if isinstance(value, str):
                yield table, name, str(value), str(name)
            elif isinstance(value, dict) and isinstance(value.get("version"), str):
                yield value, "version", str(value["version"]), str(name)


def _line_of(text: str, needle: str) -> int:
    """The 1-based line where `needle` stands outside a comment (0: not found)."""
    for number, line in enumerate(text.splitlines(), 1):
        index = line.find(needle)
        if index >= 0 and "#" not in line[:index]:
            return number
    return 0


def parse(path: str, text: str) -> Manifest:
    doc = _load(path, text)
    pins: list[Pin] = []
    other: list[Unpinned] = []
    for _, _, requirement in _pep_slots(doc):
        found = classify(path, requirement, _line_of(text, requirement))
        (pins if isinstance(found, Pin) else other).append(found)  # type: ignore[arg-type]
    for _, _, spec, name in _poetry_slots(doc):
        line = _line_of(text, spec)
        version = poetry_version(spec)
        if version is None:
            other.append(Unpinned(path=path, requirement=f"{name} = {spec!r}", line=line,
                                  reason="not a pin: a Poetry range, left as it is"))
        else:
            pins.append(Pin(path=path, name=name, key=canonical(name), version=version, line=line,
                            text=f"{name}=={version}"))
    return Manifest(pins=tuple(pins), unpinned=tuple(other))


def _replace(container: Any, key: Any, new_text: str) -> None:
    """Put `new_text` where the old string was, in the same quoting."""
    import tomlkit  # lazily, for start-up time
    from tomlkit.items import String, StringType

    old = container[key]
    literal = isinstance(old, String) and old.type in (StringType.SLL, StringType.MLL)
    container[key] = tomlkit.string(new_text, literal=literal)


def rewrite(path: str, text: str, key: str, old: str, new: str) -> str | None:
    """The document with every pin of `key` at `old` moved to `new`; None when there is none."""
    import tomlkit  # lazily, for start-up time

    doc = _load(path, text)
    edits: list[tuple[Any, Any, str]] = []
    for container, index, requirement in _pep_slots(doc):
        found = classify(path, requirement, 0)
        if isinstance(found, Pin) and found.key == key and found.version == old:
            edits.append((container, index, _moved(requirement, old, new)))
    for container, index, spec, name in _poetry_slots(doc):
        if canonical(name) == key and poetry_version(spec) == old:
            edits.append((container, index, spec.replace(old, new, 1)))
    for container, index, value in edits:
        _replace(container, index, value)
    return tomlkit.dumps(doc) if edits else None


def _moved(requirement: str, old: str, new: str) -> str:
    moved: Callable[[re.Match[str]], str] = lambda m: m.group(1) + new  # noqa: E731
    return re.sub(rf"(===?\s*){re.escape(old)}(?![\w.+*])", moved, requirement, count=1)
