"""Which files a scan covers: Python sources and dependency manifests, minus the `exclude` globs.

In a git checkout the candidates are the files git knows: tracked ones and untracked ones that are not
ignored (`git ls-files --cached --others --exclude-standard`), so a virtualenv, a build folder or a cache the
repository ignores is never scanned, whatever it is called (`gitignored=False` takes the ignored ones too).
Elsewhere (a base revision extracted with `git archive`, a plain folder) every file is walked.

An exclude glob without `/` matches any path component (`node_modules`, `*.egg-info`); one with `/` matches
the repo-relative path from the top, as does `/name` (only `name` at the top, e.g. the output folder).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath


@functools.lru_cache(maxsize=32)
def _matchers(exclude: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """(globs for one path component, globs for a path with folders), each compiled into one regex."""
    clean = [p.strip().rstrip("/") for p in exclude if p.strip().rstrip("/")]
    names = [fnmatch.translate(p) for p in clean if "/" not in p]
    paths = [fnmatch.translate(p.lstrip("/")) for p in clean if "/" in p]
    return (re.compile("|".join(names)) if names else None, re.compile("|".join(paths)) if paths else None)


def is_excluded(relpath: str, exclude: Iterable[str]) -> bool:
    """True when the repo-relative POSIX path, or any of its folders, matches an exclude glob."""
    names, paths = _matchers(tuple(exclude))
    parts = PurePosixPath(relpath).parts
    if names is not None and any(names.match(p) for p in parts):
        return True
    if paths is not None:
        return any(paths.match("/".join(parts[: i + 1])) for i in range(len(parts)))
    return False


def _excluded_here(reldir: str, name: str, exclude: tuple[str, ...]) -> bool:
    """is_excluded for an entry whose folders were already checked while walking down."""
    names, paths = _matchers(exclude)
    return bool((names is not None and names.match(name)) or (paths is not None and paths.match(reldir + name)))


def _ls_files(root: Path, *args: str) -> list[str] | None:
    """`git ls-files -z ARGS` under root, or None outside a checkout (or without git)."""
    try:
        proc = subprocess.run(["git", "ls-files", "-z", *args], cwd=root, capture_output=True, timeout=120,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return [n for n in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if n]


def git_files(root: Path, *, gitignored: bool = False) -> list[str] | None:
    """The files git knows under root (tracked, and untracked but not ignored; with `gitignored` the ignored
    ones too), or None outside a checkout."""
    names = _ls_files(root, "--cached", "--others", *(() if gitignored else ("--exclude-standard",)))
    return None if names is None else [n for n in names if (root / n).is_file()]


def gitignored(root: Path) -> list[str]:
    """What the repository's ignore rules leave out and nobody committed: ignored folders (ending in `/`, not
    walked into) and files, repo-relative. Empty outside a checkout."""
    return sorted(_ls_files(root, "--others", "--ignored", "--exclude-standard", "--directory") or [])


def walk(root: Path, roots: Sequence[str], exclude: Sequence[str], *, with_gitignored: bool = False) -> list[str]:
    """Every file under the repo-relative `roots` (all of root when empty), excluded folders pruned; in a
    checkout, what git ignores is left out too unless `with_gitignored`."""
    excl = tuple(exclude)
    known = git_files(root, gitignored=with_gitignored)
    if known is not None:
        return sorted({rel for rel in known if within(rel, roots) and not is_excluded(rel, excl)})
    out: list[str] = []
    for start in ([root / r for r in roots] if roots else [root]):
        out.extend(_walk_one(root, start, excl))
    return sorted(set(out))


def _walk_one(root: Path, start: Path, excl: tuple[str, ...]) -> list[str]:
    """The files under one configured root (or that root itself, when it is a file)."""
    rel = start.relative_to(root).as_posix()
    if start.is_file():
        return [] if is_excluded(rel, excl) else [rel]
    if start != root and is_excluded(rel, excl):
        return []
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(start):
        reldir = Path(dirpath).relative_to(root).as_posix()
        reldir = "" if reldir == "." else reldir + "/"
        dirnames[:] = sorted(d for d in dirnames if not _excluded_here(reldir, d, excl))
        out.extend(reldir + f for f in sorted(filenames) if not _excluded_here(reldir, f, excl))
    return out


def within(relpath: str, roots: Sequence[str]) -> bool:
    """True when the path is one of the configured roots or under one (no roots: everything)."""
    clean = [r.strip().strip("/") for r in roots if r.strip().strip("/") not in ("", ".")]
    return not clean or any(relpath == r or relpath.startswith(r + "/") for r in clean)


def is_python(relpath: str) -> bool:
    return relpath.endswith((".py", ".pyi"))


def is_pylock(relpath: str) -> bool:
    """A PEP 751 lock file: pylock.toml or pylock.<name>.toml."""
    name = PurePosixPath(relpath).name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml") and name.count(".") == 2)


def is_manifest(relpath: str) -> bool:
    """A dependency manifest pip-audit reads: requirements files, pyproject.toml, PEP 751 lock files."""
    name = PurePosixPath(relpath).name
    parent = PurePosixPath(relpath).parent.name
    if name == "pyproject.toml" or is_pylock(relpath):
        return True
    if not name.endswith(".txt"):
        return False
    return "requirements" in name or parent == "requirements"


def python_files(root: Path, paths: Sequence[str] | None, roots: Sequence[str], exclude: Sequence[str], *,
                 with_gitignored: bool = False) -> list[str]:
    """Python sources to scan: the given paths (PR mode) that still exist, or everything under roots."""
    if paths is not None:
        return sorted(p for p in paths if is_python(p) and (root / p).is_file() and not is_excluded(p, exclude))
    return [p for p in walk(root, roots, exclude, with_gitignored=with_gitignored) if is_python(p)]


def manifests(root: Path, paths: Sequence[str] | None, roots: Sequence[str], exclude: Sequence[str], *,
              with_gitignored: bool = False) -> list[str]:
    """requirements files and pyproject.toml files to audit."""
    if paths is not None:
        return sorted(p for p in paths if is_manifest(p) and (root / p).is_file() and not is_excluded(p, exclude))
    return [p for p in walk(root, roots, exclude, with_gitignored=with_gitignored) if is_manifest(p)]


def read_lines(root: Path, relpath: str) -> list[str]:
    try:
        return (root / relpath).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
