"""The complexity collector runs radon over a small project laid out in a temp folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from repo_automation.collectors.complexity import ComplexityCollector
from repo_automation.core.derive import mi_rating
from repo_automation.errors import SourceSkipped
from tests.helpers import make_context

# cyclomatic complexity 5: 1 + if + elif + elif + for
BRANCHY = textwrap.dedent('''\
    def helper():
        return 1


    class Router:
        def route(self, kind, items):
            if kind == "a":
                return 1
            elif kind == "b":
                return 2
            elif kind == "c":
                for i in items:
                    print(i)
            return 0
''')

# complexity 9 — but it lives where it is not measured by default
VERY_BRANCHY = ("def big(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(8))
                + "    return -1\n")


def _project(root: Path) -> Path:
    files = {
        "src/app.py": BRANCHY,
        "src/util.py": "def one():\n    return 1\n\n\ndef two(x):\n    return 2 if x else 3\n",
        "src/broken.py": "def oops(:\n    pass\n",
        "tests/test_app.py": VERY_BRANCHY,
        ".venv/lib/site.py": VERY_BRANCHY,
        "build/lib/app.py": VERY_BRANCHY,
        "node_modules/x/gen.py": VERY_BRANCHY,
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    # a Latin-1 file with its PEP 263 cookie parses; the é would break a plain UTF-8 read
    (root / "src" / "legacy.py").write_bytes(b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n")
    return root


def _metrics(root: Path, **code_quality: object) -> dict:
    cfg = {"automation": {"code_quality": code_quality}} if code_quality else {}
    ctx = make_context(root, config=cfg)
    return {m.name: m for m in ComplexityCollector.from_context(ctx).collect(ctx)}


def test_measures_functions_methods_and_skips_vendored_and_tests(tmp_path: Path) -> None:
    metrics = _metrics(_project(tmp_path))
    top = metrics["code_quality.max_complexity"]
    assert top.value == 5
    assert top.source == "complexity"
    worst = top.metadata["worst_offenders"]
    assert worst[0] == {"path": "src/app.py", "line": 6, "name": "Router.route", "complexity": 5}
    names = {w["name"] for w in worst}
    assert names == {"Router.route", "helper", "one", "two", "café"}  # nothing from tests/, .venv, build, …
    assert top.metadata["files"] == 3  # app, util, legacy: broken.py is not measured
    assert top.metadata["functions"] == 5
    # (5 + 1 + 1 + 2 + 1) / 5
    assert metrics["code_quality.average_complexity"].value == 2.0


def test_syntax_error_is_skipped_and_counted(tmp_path: Path) -> None:
    metrics = _metrics(_project(tmp_path))
    meta = metrics["code_quality.max_complexity"].metadata
    assert meta["syntax_errors"] == 1
    assert meta["syntax_error_files"] == ["src/broken.py"]


def test_threshold_from_config_counts_functions_over_it(tmp_path: Path) -> None:
    metrics = _metrics(_project(tmp_path), quality_gates={"complexity_threshold": 1})
    meta = metrics["code_quality.max_complexity"].metadata
    assert meta["threshold"] == 1
    assert meta["over_threshold"] == 2  # route (5) and two (2)


def test_tests_are_measured_when_code_quality_exclude_is_emptied(tmp_path: Path) -> None:
    metrics = _metrics(_project(tmp_path), exclude=[])
    worst = metrics["code_quality.max_complexity"].metadata["worst_offenders"][0]
    assert worst == {"path": "tests/test_app.py", "line": 1, "name": "big", "complexity": 9}
    assert metrics["code_quality.max_complexity"].value == 9


def test_path_patterns_exclude_by_repo_relative_path(tmp_path: Path) -> None:
    metrics = _metrics(_project(tmp_path), exclude=["tests", "src/app.py"])
    assert metrics["code_quality.max_complexity"].value == 2


def test_maintainability_index_is_a_weighted_index_not_a_rating(tmp_path: Path) -> None:
    metrics = _metrics(_project(tmp_path))
    mi = metrics["code_quality.maintainability_index"]
    assert 0 < mi.value <= 100
    assert mi.metadata["rating"] == "ABCDE"[mi_rating(mi.value) - 1]
    assert "code_quality.maintainability_rating" not in metrics  # that one comes from SonarQube only


@pytest.mark.parametrize(("index", "rating"), [
    (100.0, 1), (20.0, 1), (19.99, 2), (15.0, 2), (14.9, 3), (10.0, 3), (9.9, 4), (5.0, 4), (4.99, 5), (0.0, 5),
])
def test_mi_rating_bands(index: float, rating: int) -> None:
    assert mi_rating(index) == rating


def test_no_python_files_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# hi\n", encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def t():\n    pass\n", encoding="utf-8")
    ctx = make_context(tmp_path)
    with pytest.raises(SourceSkipped, match="no Python files"):
        ComplexityCollector.from_context(ctx).collect(ctx)


def test_only_broken_files_is_skipped_saying_so(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("print 'python 2'\n", encoding="utf-8")
    ctx = make_context(tmp_path)
    with pytest.raises(SourceSkipped, match="1 could not be parsed"):
        ComplexityCollector.from_context(ctx).collect(ctx)


def test_data_table_gets_complexity_but_no_index(tmp_path: Path) -> None:
    """A generated table (one 400-line statement) is measured quickly and left out of the index."""
    rows = "".join(f"    ({i}, {i + 1}),\n" for i in range(400))
    (tmp_path / "table.py").write_text(f"TABLE = (\n{rows})\n\n\ndef lookup(i):\n    return TABLE[i]\n",
                                       encoding="utf-8")
    (tmp_path / "code.py").write_text("def f(x):\n    return 1 if x else 2\n", encoding="utf-8")
    metrics = _metrics(tmp_path)
    assert {w["name"] for w in metrics["code_quality.max_complexity"].metadata["worst_offenders"]} == {"lookup", "f"}
    mi = metrics["code_quality.maintainability_index"]
    assert mi.metadata["files_without_index"] == 1
    from radon.metrics import mi_visit
    assert mi.value == round(mi_visit((tmp_path / "code.py").read_text(), multi=True), 1)  # code.py alone


def test_in_a_checkout_only_what_the_repository_holds_is_measured(tmp_path: Path) -> None:
    """An ignored folder (a virtualenv or generated code under any name) is not measured, like the scanners."""
    import subprocess

    (tmp_path / "app.py").write_text("def f(x):\n    return 1 if x else 2\n", encoding="utf-8")
    (tmp_path / "envs" / "site").mkdir(parents=True)
    (tmp_path / "envs" / "site" / "lib.py").write_text("def g(a, b):\n    if a:\n        return b\n    return a\n",
                                                       encoding="utf-8")
    (tmp_path / ".gitignore").write_text("envs/\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, timeout=60)
    collector = ComplexityCollector(workspace=tmp_path, exclude=[], threshold=10)
    assert [p.relative_to(tmp_path).as_posix() for p in collector.python_files()] == ["app.py"]
