"""Cyclomatic complexity and maintainability index of the repository's Python code, with radon.

Which files: every `*.py` the repository holds (in a git checkout: tracked, or untracked and not ignored —
the same files the scanners see, `repo_automation.discover.walk`), except
- hidden folders (`.git`, `.venv`, `.tox`, `.mypy_cache`, …),
- anything matching `automation.security_scanning.exclude` or its `exclude_extra` (vendored and generated
  code: `.venv`, `venv`, `node_modules`, `build`, `dist`, … by default), and
- anything matching `automation.code_quality.exclude` (default `tests`, `test`: the gate is about the code
  that ships; set it to `[]` to include tests).
A pattern matches one path component (`build`, `*_pb2.py`) or the whole repo-relative path (`src/legacy/*`).

Metrics (source "complexity"):
- `code_quality.max_complexity`: the highest cyclomatic complexity of one function or method; metadata
  `worst_offenders` (top 10: path, line, name, complexity) and `over_threshold` (how many functions exceed
  the configured `complexity_threshold`);
- `code_quality.complex_functions`: how many functions exceed `complexity_threshold` (what the complexity
  ratchet compares with the last stored run), and `code_quality.complexity_threshold`, the threshold it was
  counted for (the ratchet compares no counts made for two thresholds);
- on a pull request, `code_quality.changed_complex_functions`: the changed functions over the threshold that
  are new or more complex than at the base (see complexity_change.py);
- `code_quality.average_complexity`: the mean over all functions and methods;
- `code_quality.maintainability_index`: radon's maintainability index (0-100) per file, averaged weighted
  by source lines. It is NOT a Sonar rating: `code_quality.maintainability_rating` comes from SonarQube
  only; `mi_rating` maps the index to A-E where the gate has no Sonar rating (see its docstring).
A file that does not parse (syntax error, bad encoding) is skipped and counted in `syntax_errors`.
"""

from __future__ import annotations

import ast
import logging
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from repo_automation.collectors.complexity_change import changed_complexity
from repo_automation.context import PullRequest, RunContext
from repo_automation.core.derive import mi_rating
from repo_automation.discover import walk
from repo_automation.domain import Metric, printable_path
from repo_automation.errors import SourceSkipped
from repo_automation.stages import Collector, Noted

log = logging.getLogger(__name__)

TOP_OFFENDERS = 10
LONG_STATEMENT_LINES = 100

@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionComplexity:
    path: str
    line: int
    name: str
    complexity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    functions: tuple[FunctionComplexity, ...]
    mi: float | None
    sloc: int


class ComplexityCollector(Collector):
    name = "complexity"

    def __init__(self, *, workspace: Path, exclude: Sequence[str], threshold: int,
                 pull_request: PullRequest | None = None) -> None:
        self._workspace = workspace
        self._exclude = tuple(exclude)
        self._threshold = threshold
        self._pull_request = pull_request  # compare the changed functions with the base (complexity_change)

    @classmethod
    def from_context(cls, ctx: RunContext) -> ComplexityCollector:
        quality = ctx.config.code_quality
        return cls(workspace=ctx.workspace, exclude=[*ctx.config.security_scanning.excluded, *quality.exclude],
                   threshold=quality.quality_gates.complexity_threshold, pull_request=ctx.pull_request)

    def collect(self, ctx: RunContext) -> list[Metric]:
        metrics, functions, measured = self._measure()
        if self._pull_request is None:
            return metrics
        change, why = changed_complexity(self._workspace, self._pull_request, head=functions, measured=measured,
                                         threshold=self._threshold, analyse=_functions_of)
        return Noted([*metrics, change] if change is not None else metrics, [why] if why else [])

    def _measure(self) -> tuple[list[Metric], list[FunctionComplexity], set[str]]:
        functions: list[FunctionComplexity] = []
        measured: set[str] = set()
        mi_weighted = 0.0
        mi_sloc = 0
        files = 0
        broken: list[str] = []
        no_index = 0
        for path in self.python_files():
            rel = printable_path(path.relative_to(self._workspace).as_posix())
            measured.add(rel)
            result = analyse_file(path, rel)
            if result is None:
                broken.append(rel)
                continue
            files += 1
            functions.extend(result.functions)
            if result.mi is not None and result.sloc > 0:
                mi_weighted += result.mi * result.sloc
                mi_sloc += result.sloc
            elif result.mi is None:
                no_index += 1
        if not files:
            detail = f" ({len(broken)} could not be parsed)" if broken else ""
            raise SourceSkipped(f"no Python files to measure{detail}")
        mi = mi_weighted / mi_sloc if mi_sloc else None
        return self._metrics(functions, files, broken, mi, no_index), functions, measured

    def _metrics(self, functions: list[FunctionComplexity], files: int, broken: list[str],
                 mi: float | None, no_index: int = 0) -> list[Metric]:
        worst = sorted(functions, key=lambda f: (-f.complexity, f.path, f.line))
        summary: dict[str, Any] = {"files": files, "functions": len(functions), "syntax_errors": len(broken)}
        if broken:
            summary["syntax_error_files"] = broken[:TOP_OFFENDERS]
        max_meta = {
            **summary,
            "threshold": self._threshold,
            "over_threshold": sum(1 for f in functions if f.complexity > self._threshold),
            "worst_offenders": [
                {"path": f.path, "line": f.line, "name": f.name, "complexity": f.complexity}
                for f in worst[:TOP_OFFENDERS]
            ],
        }
        top = worst[0].complexity if worst else 0
        mean = sum(f.complexity for f in functions) / len(functions) if functions else 0.0
        out = [
            Metric(name="code_quality.max_complexity", value=float(top), source=self.name, metadata=max_meta),
            Metric(name="code_quality.complex_functions", value=float(max_meta["over_threshold"]), source=self.name,
                   unit="count", metadata={"threshold": self._threshold, "functions": len(functions)}),
            Metric(name="code_quality.complexity_threshold", value=float(self._threshold), source=self.name,
                   unit="complexity"),
            Metric(name="code_quality.average_complexity", value=round(mean, 2), source=self.name,
                   metadata=summary),
        ]
        if mi is not None:
            out.append(Metric(name="code_quality.maintainability_index", value=round(mi, 1), source=self.name,
                              metadata={**summary, "weighting": "source lines", "files_without_index": no_index,
                                        "rating": "ABCDE"[mi_rating(mi) - 1]}))
        return out

    def python_files(self) -> Iterator[Path]:
        """Every Python file that is measured, in a stable order: the files the scanners would look at (in a
        checkout, what git tracks or would track), minus hidden folders and the excludes."""
        for rel in walk(self._workspace, [], self._exclude):
            parts = PurePosixPath(rel).parts
            if rel.endswith(".py") and not any(p.startswith(".") for p in parts[:-1]):
                yield self._workspace / rel


def analyse_file(path: Path, rel: str) -> FileResult | None:
    """Complexity of every function and the maintainability index of one file; None when it does not parse.

    The file is parsed once; the index is radon's `mi_visit(code, multi=True)` computed from the same parts.
    A file with one plain statement longer than LONG_STATEMENT_LINES lines (a data table such as a Unicode
    database) gets no index: radon's raw line counter is quadratic in the length of a statement, and an
    index of a data table says nothing about maintainability.
    """
    try:
        with tokenize.open(path) as fh:  # honours PEP 263 coding cookies
            code = fh.read()
    except (SyntaxError, ValueError, UnicodeDecodeError, OSError) as e:
        log.info("complexity: skipping %s: %s", rel, e)
        return None
    return analyse_code(code, rel)


def analyse_code(code: str, rel: str) -> FileResult | None:
    """`analyse_file` on source text already read (a file at a pull request's base, from git)."""
    from radon.metrics import h_visit_ast, mi_compute  # lazily: radon is heavy for --help
    from radon.raw import analyze
    from radon.visitors import ComplexityVisitor

    try:
        tree = ast.parse(code, filename=rel)
    except (SyntaxError, ValueError) as e:
        log.info("complexity: skipping %s: %s", rel, e)
        return None
    visitor = ComplexityVisitor.from_ast(tree)
    functions = (*_functions(visitor.functions, rel), *_classes(visitor.classes, rel))
    if _longest_statement(tree) > LONG_STATEMENT_LINES:
        log.info("complexity: no maintainability index for %s (a statement spans over %d lines)", rel,
                 LONG_STATEMENT_LINES)
        return FileResult(functions=functions, mi=None, sloc=0)
    try:
        raw = analyze(code)
    except (SyntaxError, ValueError) as e:  # radon's tokenizer is stricter than ast in rare cases
        log.info("complexity: no maintainability index for %s: %s", rel, e)
        return FileResult(functions=functions, mi=None, sloc=0)
    comments = (raw.comments + raw.multi) / raw.sloc * 100 if raw.sloc else 0.0
    mi = float(mi_compute(h_visit_ast(tree).total.volume, visitor.total_complexity, raw.lloc, comments))
    return FileResult(functions=functions, mi=mi, sloc=int(raw.sloc))


def _functions_of(code: str, rel: str) -> tuple[FunctionComplexity, ...] | None:
    result = analyse_code(code, rel)
    return None if result is None else result.functions


def _longest_statement(tree: Any) -> int:
    """Lines spanned by the longest simple (non-compound) statement."""
    longest = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not hasattr(node, "body") and node.end_lineno is not None:
            longest = max(longest, node.end_lineno - node.lineno + 1)
    return longest


def _functions(funcs: Sequence[Any], rel: str, prefix: str = "") -> Iterator[FunctionComplexity]:
    """Functions or methods and, recursively, the closures defined inside them."""
    for fn in funcs:
        name = f"{prefix}{fn.fullname}"
        yield FunctionComplexity(path=rel, line=int(fn.lineno), name=name, complexity=int(fn.complexity))
        yield from _functions(fn.closures, rel, prefix=f"{name}.")


def _classes(classes: Sequence[Any], rel: str, prefix: str = "") -> Iterator[FunctionComplexity]:
    """The methods of classes and of their inner classes (a class itself is not a function)."""
    for cls in classes:
        yield from _functions(cls.methods, rel, prefix=prefix)
        yield from _classes(cls.inner_classes, rel, prefix=f"{prefix}{cls.name}.")
