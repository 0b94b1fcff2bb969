"""Requirements files as pip reads them: one logical-line reader, `packaging` for each requirement.

pip's rules: a line ending in a backslash continues on the next one, unless it is a comment; a comment
starts at `#` at the start of a line or after whitespace. Each logical line remembers the physical lines it
spans, so a rewrite changes those lines alone and the rest of the file stays byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from repo_automation.manifests.model import Manifest, Pin, Unpinned, canonical, classify

_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION = re.compile(r"\s-{1,2}[A-Za-z]")  # where per-requirement options (--hash=…) start
_INCLUDES = ("-r", "--requirement", "-c", "--constraint")
# the options pip reads in a requirements file (pip/_internal/req/req_file.py: SUPPORTED_OPTIONS and the
# per-requirement ones); optparse also takes an unambiguous prefix of a long one, and a short one joined
# to its value (-rbase.txt)
_LONG_OPTIONS = ("--index-url", "--extra-index-url", "--no-index", "--constraint", "--requirement", "--editable",
                 "--find-links", "--no-binary", "--only-binary", "--prefer-binary", "--require-hashes", "--pre",
                 "--trusted-host", "--use-feature", "--global-option", "--config-settings", "--hash")
_SHORT_OPTIONS = ("-i", "-c", "-r", "-e", "-f")
_HASH = re.compile(r"--hash[=\s]\s*[A-Za-z0-9]+:[A-Fa-f0-9]+")
_HASH_LINE = re.compile(r"^(?P<indent>\s*)--hash[=\s]\s*[A-Za-z0-9]+:[A-Fa-f0-9]+\s*\\?\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogicalLine:
    first: int  # 0-based index of its first physical line
    last: int  # 0-based index of its last physical line
    body: str  # joined, comment removed, stripped


def logical_lines(text: str) -> list[LogicalLine]:
    """Every non-empty logical line, as pip joins them."""
    out: list[LogicalLine] = []
    parts: list[str] = []
    first = 0
    physical = text.splitlines()
    for index, line in enumerate(physical):
        if not parts:
            first = index
        if line.endswith("\\") and not _COMMENT.match(line):
            parts.append(line[:-1])
            continue
        parts.append(" " + line if _COMMENT.match(line) else line)
        body = _COMMENT.sub("", "".join(parts)).strip()
        if body:
            out.append(LogicalLine(first=first, last=index, body=body))
        parts = []
    if parts and (body := _COMMENT.sub("", "".join(parts)).strip()):
        out.append(LogicalLine(first=first, last=len(physical) - 1, body=body))
    return out


def requirement_part(body: str) -> str:
    """The requirement of a logical line without its per-requirement options (`--hash=…`)."""
    return _OPTION.split(" " + body, maxsplit=1)[0].strip()


def _flag(body: str) -> str:
    """The option a line starting with `-` gives (`--index-url` of `--index-url=https://…`)."""
    return re.split(r"[\s=]", body, maxsplit=1)[0]


def is_include(body: str) -> bool:
    flag = _flag(body)
    return any(flag == i or (len(i) == 2 and flag.startswith(i)) for i in _INCLUDES)


def is_pip_option(body: str) -> bool:
    """Whether a line starting with `-` is an option pip reads in a requirements file."""
    flag = _flag(body)
    if flag.startswith("--"):
        return flag in _LONG_OPTIONS or (len(flag) > 2 and sum(o.startswith(flag) for o in _LONG_OPTIONS) == 1)
    return flag[:2] in _SHORT_OPTIONS


def parse(path: str, text: str) -> Manifest:
    """A requirements file's pins, other requirements, options and includes. A file whose lines are mostly
    neither requirements nor pip options (a reST page named constraints.txt, say) is `foreign`: pip would
    refuse it, and nothing of it is audited or updated."""
    pins: list[Pin] = []
    other: list[Unpinned] = []
    options: list[str] = []
    includes: list[str] = []
    lines = logical_lines(text)
    for logical in lines:
        body = logical.body
        if body.startswith("-"):
            if not is_pip_option(body):
                other.append(Unpinned(path=path, requirement=body, reason="not an option pip reads in a "
                                      "requirements file", line=logical.first + 1, unreadable=True))
            elif body.startswith(("-e", "--editable")):
                other.append(Unpinned(path=path, requirement=body, reason="not a pin: an editable install",
                                      line=logical.first + 1))
            else:
                (includes if is_include(body) else options).append(" ".join(body.split()))
            continue
        found = classify(path, requirement_part(body), logical.first + 1, audit_text=body,
                         hashed=bool(_HASH.search(body)))
        (pins if isinstance(found, Pin) else other).append(found)  # type: ignore[arg-type]
    unreadable = [u for u in other if u.unreadable]
    if len(unreadable) * 2 > len(lines):
        first = unreadable[0]
        return Manifest(foreign=f"not a requirements file: {len(unreadable)} of its {len(lines)} lines are neither "
                                f"a requirement nor a pip option (line {first.line}: {first.requirement[:60]!r})")
    return Manifest(pins=tuple(pins), unpinned=tuple(other), options=tuple(options), includes=tuple(includes))


def _pin_pattern(name: str, version: str) -> re.Pattern[str]:
    """`name[extras] ==(=) version` where name matches in any PEP 503 spelling (case, '-', '_', '.')."""
    spelled = r"[-_.]+".join(re.escape(p) for p in re.split(r"[-_.]+", name))
    return re.compile(rf"(?i)(?<![\w.-])({spelled}\s*(?:\[[^\]]*\])?\s*===?\s*){re.escape(version)}(?![\w.+*])")


def _rehash(lines: list[str], first: int, last: int, hashes: Sequence[str]) -> bool:
    """Replace the --hash options of lines[first..last] with `hashes` (sha256 digests), keeping the layout:
    pip-compile's one hash per continuation line, or all of them on one line. False: a layout not known."""
    new = [f"--hash=sha256:{h}" for h in sorted(hashes)]
    span = range(first + 1, last + 1)
    if span and all(_HASH_LINE.match(lines[i].rstrip("\r\n")) for i in span):
        match = _HASH_LINE.match(lines[first + 1].rstrip("\r\n"))
        indent = match.group("indent") if match else "    "
        ending = lines[last][len(lines[last].rstrip("\r\n")):]
        eol = lines[first][len(lines[first].rstrip("\r\n")):] or "\n"
        rebuilt = [f"{indent}{h} \\{eol}" for h in new[:-1]] + [f"{indent}{new[-1]}{ending}"]
        lines[first + 1:last + 1] = rebuilt
        return True
    holders = [i for i in range(first, last + 1) if _HASH.search(lines[i])]
    if len(holders) == 1:
        line = lines[holders[0]]
        found = list(_HASH.finditer(line))
        lines[holders[0]] = line[:found[0].start()] + " ".join(new) + line[found[-1].end():]
        return True
    return False


def rewrite(text: str, key: str, old: str, new: str, hashes: Sequence[str] = ()) -> tuple[str, bool] | None:
    """(text with the pins of `key` at `old` moved to `new`, whether every --hash could be renewed), or None
    when no such pin is left. Lines other than the pins' own are kept byte for byte."""
    lines = text.splitlines(keepends=True)
    changed, hashes_ok = False, True
    for logical in reversed(logical_lines(text)):  # from the end: rehashing may change the line count
        if logical.body.startswith("-"):
            continue
        found = classify("", requirement_part(logical.body), 0)
        if not isinstance(found, Pin) or found.key != key or found.version != old:
            continue
        pattern = _pin_pattern(found.name, old)
        for index in range(logical.first, logical.last + 1):
            lines[index], count = pattern.subn(lambda m: m.group(1) + new, lines[index], count=1)
            if count:
                changed = True
                break
        if _HASH.search(logical.body):
            hashes_ok = bool(hashes) and _rehash(lines, logical.first, logical.last, hashes) and hashes_ok
    return ("".join(lines), hashes_ok) if changed else None


__all__ = ["LogicalLine", "canonical", "is_include", "is_pip_option", "logical_lines", "parse", "requirement_part",
           "rewrite"]
