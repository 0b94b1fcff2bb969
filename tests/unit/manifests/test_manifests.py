"""The one manifest model: reading pins and rewriting them, on real-world file shapes, byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from repo_automation.errors import ConfigError
from repo_automation.manifests import find_manifests, lock_refresh, parse_manifest, rewrite_pin

DATA = Path(__file__).resolve().parents[2] / "data" / "manifests"
NEW_SIX = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"  # six-1.17.0-py2.py3-none-any.whl

REQS = """\
--index-url https://pypi.org/simple
-r base.txt
# a comment with six==0.1 inside \\
Django==4.2.1  # LTS
requests[socks]==2.31.0; python_version >= "3.8"
flask>=2,<3
numpy==1.*
Exact===1.0.post1
git+https://github.com/psf/black@main#egg=black
zope.interface==6.0
"""


def changed_lines(before: str, after: str) -> list[str]:
    """The lines a rewrite removed (-) and added (+), nothing else."""
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_one_definition_of_pinned_double_and_triple_equals_not_wildcards() -> None:
    found = parse_manifest("requirements.txt", REQS)
    assert [(p.key, p.version, p.line) for p in found.pins] == [
        ("django", "4.2.1", 4), ("requests", "2.31.0", 5), ("exact", "1.0.post1", 8), ("zope-interface", "6.0", 10)]
    reasons = {u.requirement: u.reason for u in found.unpinned}
    assert reasons["numpy==1.*"] == "not a pin: the wildcard ==1.* matches many versions"
    assert reasons["flask>=2,<3"].startswith("not a pin: a range")
    assert found.includes == ("-r base.txt",) and found.options == ("--index-url https://pypi.org/simple",)


def test_rewrite_keeps_extras_markers_comments_and_other_lines() -> None:
    out = rewrite_pin("requirements.txt", REQS, "requests", "2.31.0", "2.32.3")
    assert out == REQS.replace('requests[socks]==2.31.0; python_version', 'requests[socks]==2.32.3; python_version')
    out = rewrite_pin("requirements.txt", REQS, "exact", "1.0.post1", "1.1")
    assert out == REQS.replace("Exact===1.0.post1", "Exact===1.1")
    assert rewrite_pin("requirements.txt", REQS, "zope-interface", "6.0", "6.4") == REQS.replace(
        "zope.interface==6.0", "zope.interface==6.4")
    assert rewrite_pin("requirements.txt", REQS, "django", "4.0", "4.2.16") is None  # no pin at that version
    assert rewrite_pin("requirements.txt", REQS, "numpy", "1.*", "2.0") is None  # not a pin: never rewritten


def test_pip_compile_hashes_are_renewed_and_nothing_else_moves() -> None:
    # tests/data/manifests/pip-compile.txt is pip-compile 7's own output (--generate-hashes) over the test index
    text = (DATA / "pip-compile.txt").read_text(encoding="utf-8")
    pins = parse_manifest("requirements.txt", text).pins
    assert [(p.key, p.version, p.hashed) for p in pins] == [
        ("idna", "2.10", True), ("pyparsing", "3.1.2", True), ("six", "1.16.0", True)]
    out = rewrite_pin("requirements.txt", text, "six", "1.16.0", "1.17.0", [NEW_SIX])
    assert out is not None
    assert changed_lines(text, out) == [
        "-six==1.16.0 \\",
        "-    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
        "+six==1.17.0 \\",
        f"+    --hash=sha256:{NEW_SIX}"]
    two = rewrite_pin("requirements.txt", text, "idna", "2.10", "3.7", ["b" * 64, "a" * 64])  # wheel and sdist
    assert two is not None and changed_lines(text, two) == [
        "-idna==2.10 \\", "-    --hash=sha256:b97d804b1e9b523befed77c48dacec60e6dcb0b5391d57af6a65a312a90648c0",
        "+idna==3.7 \\", "+    --hash=sha256:" + "a" * 64 + " \\", "+    --hash=sha256:" + "b" * 64]
    # pip-compile's "via" comment stays under its pin, its global option stays
    assert out.endswith("    # via -r requirements.in\n") and "--find-links /opt/wheels\n" in out


def test_pyproject_comments_that_mention_the_pin_are_never_edited() -> None:
    text = (DATA / "pyproject-comments.toml").read_text(encoding="utf-8")
    found = parse_manifest("pyproject.toml", text)
    assert sorted((p.key, p.version) for p in found.pins) == [
        ("idna", "2.10"), ("idna", "2.10"), ("pyparsing", "3.1.2"), ("six", "1.16.0")]
    assert {u.requirement: u.reason for u in found.unpinned}["numpy==1.*"].startswith("not a pin")
    out = rewrite_pin("pyproject.toml", text, "idna", "2.10", "3.7")
    assert out is not None
    assert changed_lines(text, out) == [
        '-    "idna==2.10",  # keep in step with "idna==2.10" in constraints',
        '+    "idna==3.7",  # keep in step with "idna==2.10" in constraints',
        "-cli = [\"idna == 2.10; python_version >= '3.8'\", \"rich\"]",
        "+cli = [\"idna == 3.7; python_version >= '3.8'\", \"rich\"]"]
    six = rewrite_pin("pyproject.toml", text, "six", "1.16.0", "1.17.0")
    assert six is not None and changed_lines(text, six) == ["-    'six==1.16.0',", "+    'six==1.17.0',"]
    group = rewrite_pin("pyproject.toml", text, "pyparsing", "3.1.2", "3.1.4")  # PEP 735 dependency-groups
    assert group is not None and changed_lines(text, group) == [
        '-test = ["pyparsing===3.1.2", {include-group = "lint"}]',
        '+test = ["pyparsing===3.1.4", {include-group = "lint"}]']
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_manifest("pyproject.toml", "[project\n")


def test_poetry_exact_versions_are_pins_and_ranges_are_not() -> None:
    text = (DATA / "poetry-pyproject.toml").read_text(encoding="utf-8")
    found = parse_manifest("pyproject.toml", text)
    assert [(p.key, p.version, p.line) for p in found.pins] == [("six", "1.16.0", 9), ("idna", "2.10", 10),
                                                                 ("pyparsing", "3.1.2", 15)]
    assert [u.requirement for u in found.unpinned] == ["pyparsing = '^3.1'"]  # the git dependency has no version
    out = rewrite_pin("pyproject.toml", text, "idna", "2.10", "3.7")
    assert out is not None and changed_lines(text, out) == [
        '-idna = { version = "2.10", optional = true }', '+idna = { version = "3.7", optional = true }']
    out = rewrite_pin("pyproject.toml", text, "pyparsing", "3.1.2", "3.1.4")
    assert out is not None and changed_lines(text, out) == ['-pyparsing = "==3.1.2"', '+pyparsing = "==3.1.4"']
    out = rewrite_pin("pyproject.toml", text, "six", "1.16.0", "1.17.0")
    assert out is not None and changed_lines(text, out) == [
        '-six = "1.16.0"          # exact: Poetry reads a bare version as ==',
        '+six = "1.17.0"          # exact: Poetry reads a bare version as ==']


def test_requirements_layout_includes_and_a_loose_line_do_not_refuse_the_file(tmp_path: Path) -> None:
    layout = DATA / "requirements-layout"
    assert find_manifests(layout, []) == ["constraints.txt", "requirements/base.txt", "requirements/prod.txt"]
    prod = parse_manifest("requirements/prod.txt", (layout / "requirements/prod.txt").read_text(encoding="utf-8"))
    assert [(p.key, p.version) for p in prod.pins] == [("idna", "2.10")]
    assert prod.includes == ("-r base.txt", "-c ../constraints.txt")
    assert [(u.requirement, u.reason) for u in prod.unpinned] == [("gunicorn", "not a pin: no version given")]
    base = (layout / "requirements/base.txt").read_text(encoding="utf-8")
    out = rewrite_pin("requirements/base.txt", base, "pyparsing", "3.1.2", "3.1.4")
    assert out == base.replace('pyparsing==3.1.2 ; python_version', 'pyparsing==3.1.4 ; python_version')


def test_discovery_and_lock_files(tmp_path: Path) -> None:
    for rel in ("requirements.txt", "requirements-dev.txt", "constraints.txt", "pyproject.toml", "uv.lock",
                "svc/requirements/envs/prod.txt", ".venv/lib/requirements.txt", "node_modules/x/requirements.txt",
                "docs/notes.txt", "poetry.lock"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    assert find_manifests(tmp_path, []) == ["constraints.txt", "pyproject.toml", "requirements-dev.txt",
                                            "requirements.txt", "svc/requirements/envs/prod.txt"]
    assert lock_refresh(tmp_path, "pyproject.toml") == ["uv.lock (`uv lock`)", "poetry.lock (`poetry lock`)"]
    assert lock_refresh(tmp_path, "requirements.txt") == []
    with pytest.raises(ConfigError) as e:
        find_manifests(tmp_path, ["nope.txt"])
    assert "nope.txt" in e.value.diagnostics()
    uv = '[[package]]\nname = "idna"\nversion = "3.7"\nsource = { registry = "https://pypi.org/simple" }\n'
    assert [(p.key, p.version, p.text, p.line) for p in parse_manifest("uv.lock", uv).pins] == [
        ("idna", "3.7", "idna==3.7", 2)]
    assert rewrite_pin("uv.lock", uv, "idna", "3.7", "3.8") is None  # a lock is refreshed by its tool


# the first lines of Django 5.0's docs/ref/models/constraints.txt: a reST page that discovery's
# constraints*.txt pattern picks up
REST_PAGE = """\
=====================
Constraints reference
=====================

.. module:: django.db.models.constraints

.. currentmodule:: django.db.models

The classes defined in this module create database constraints. They are added
in the model :attr:`Meta.constraints <django.db.models.Options.constraints>`
option.

.. admonition:: Referencing built-in constraints

    Constraints are defined in ``django.db.models.constraints``, but for
    convenience they're imported into :mod:`django.db.models`.

``BaseConstraint``
==================

- The ``name`` argument is required.
--------------------------------------
"""


def test_a_page_named_like_a_constraints_file_is_not_read_as_one() -> None:
    found = parse_manifest("docs/ref/models/constraints.txt", REST_PAGE)
    # nothing of it is audited or updated, and it says why in one line
    assert not found.pins and not found.unpinned and not found.options and not found.includes
    assert found.foreign == ("not a requirements file: 15 of its 15 lines are neither a requirement nor a pip "
                             "option (line 1: '=====================')")


def test_pip_options_in_every_spelling_pip_takes_and_one_it_does_not() -> None:
    text = ("--index https://mirror.example/simple\n-rbase.txt\n--pre\n--only-binary=:all:\n"
            "-f ./wheels\n--frobnicate\nsix==1.16.0\nidna==3.7 --hash=sha256:" + "a" * 64 + "\nthis line is a typo\n")
    found = parse_manifest("requirements.txt", text)
    assert not found.foreign  # seven of nine lines are pip's: a requirements file with two bad lines
    assert found.options == ("--index https://mirror.example/simple", "--pre", "--only-binary=:all:", "-f ./wheels")
    assert found.includes == ("-rbase.txt",)
    assert [(p.key, p.version, p.hashed) for p in found.pins] == [("six", "1.16.0", False), ("idna", "3.7", True)]
    # the unknown option is never handed to pip-audit (it would refuse the file), and the reasons are one line
    assert [(u.requirement, u.reason, u.line) for u in found.unpinned] == [
        ("--frobnicate", "not an option pip reads in a requirements file", 6),
        ("this line is a typo", "not a requirement pip can read (Expected semicolon (after name with no version "
                                "specifier) or end)", 9)]
