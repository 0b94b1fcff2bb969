"""Which pins a pull request changed in a requirements file (scanners/pindiff.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_automation.manifests.requirements_txt import logical_lines
from repo_automation.scanners.pindiff import (
    PinDiff,
    diff,
    entry,
    notice,
    parse_requirements,
    plan,
    unpinned,
)

HASH = "--hash=sha256:" + "a" * 64
OTHER_HASH = "--hash=sha256:" + "b" * 64


def pins(head: str, base: str) -> PinDiff:
    d = diff("requirements.txt", parse_requirements(head), parse_requirements(base))
    assert isinstance(d, PinDiff), d
    return d


def test_logical_lines_join_continuations_and_drop_comments() -> None:
    text = f"# header\nsix==1.16.0 \\\n    {HASH}  # pinned\n\nurl#frag==1\n  requests==2.0 # c\n"
    assert [x.body for x in logical_lines(text)] == [f"six==1.16.0     {HASH}", "url#frag==1", "requests==2.0"]
    assert [(x.first, x.last) for x in logical_lines(text)] == [(1, 2), (4, 4), (5, 5)]


def test_the_changed_lines_are_kept_as_written() -> None:
    head = f'jinja2[i18n]==2.11.3 ; python_version >= "3" \\\n    {HASH}\nsix==1.16.0\nnew==1.0\n'
    base = "six==1.16.0\njinja2==2.10\nold==0.1\n"
    d = pins(head, base)
    assert [e.text for e in d.head] == [f'jinja2[i18n]==2.11.3 ; python_version >= "3"     {HASH}', "new==1.0"]
    assert [e.text for e in d.base] == ["jinja2==2.10", "old==0.1"]
    assert d.unchanged == 1 and d.changed_names == ["jinja2", "new", "old"]


def test_order_comments_name_spelling_and_hashes_are_no_change() -> None:
    head = f"# now sorted\nJinja2 == 2.10 {OTHER_HASH}\nsix==1.16.0\n"
    base = f"six==1.16.0  # fine\njinja2==2.10 {HASH}\n"
    d = pins(head, base)
    assert d.head == d.base == () and d.unchanged == 2


def test_extras_markers_and_duplicates_are_part_of_a_pin() -> None:
    d = pins('a[x]==1\nb==1 ; python_version < "3.9"\nc==1\nc==1\n', 'a==1\nb==1\nc==1\n')
    assert [e.text for e in d.head] == ["a[x]==1", 'b==1 ; python_version < "3.9"', "c==1"]
    assert [e.text for e in d.base] == ["a==1", "b==1"]
    assert d.unchanged == 1


def test_includes_and_changed_options_mean_the_whole_file() -> None:
    assert diff("r.txt", parse_requirements("a==1\n-r base.txt\n"), parse_requirements("a==2\n")) == "it uses -r"
    assert diff("r.txt", parse_requirements("a==1\n"), parse_requirements("-cconstraints.txt\n")) == "it uses -c"
    assert diff("r.txt", parse_requirements("-e .\n"), parse_requirements("")) == "it uses -e"
    changed = diff("r.txt", parse_requirements("--index-url https://a/simple\na==1\n"),
                   parse_requirements("--index-url https://b/simple\na==1\n"))
    assert changed == "its global options changed"
    same = pins("--index-url https://a/simple\na==2\n", "--index-url  https://a/simple\na==1\n")
    assert same.options == ("--index-url https://a/simple",)  # repeated in the file handed to the auditor


def test_a_new_file_has_every_pin_changed() -> None:
    d = pins("a==1\nb==2\n", "")
    assert len(d.head) == 2 and d.base == () and d.unchanged == 0


def test_notice_wording() -> None:
    assert notice(pins("a==2\nb==1\n", "a==1\nb==1\n")) == (
        "PR mode audited the 1 pin that changed in requirements.txt; the 1 unchanged pin is covered by the full scan")
    assert notice(pins("a==2\nb==2\nc==1\nd==1\n", "a==1\nb==1\nc==1\nd==1\n")) == (
        "PR mode audited the 2 pins that changed in requirements.txt; "
        "the 2 unchanged pins are covered by the full scan")


def test_plan_audits_pins_or_whole_files(tmp_path: Path) -> None:
    head, base = tmp_path / "head", tmp_path / "base"
    for root, pin in ((head, "2"), (base, "1")):
        root.mkdir()
        (root / "requirements.txt").write_text(f"a=={pin}\nb==1\n", encoding="utf-8")
        (root / "pyproject.toml").write_text("[project\n", encoding="utf-8")  # broken at both sides
    assert plan("requirements.txt", head, base) == (
        [("requirements.txt", ["a==2"])], [("requirements.txt", ["a==1"])],
        "PR mode audited the 1 pin that changed in requirements.txt; the 1 unchanged pin is covered by the full scan")
    # a pyproject that cannot be read is audited whole, where pip-audit's side reports why it failed
    assert plan("pyproject.toml", head, base) == ([("pyproject.toml", None)], [("pyproject.toml", None)], None)
    (base / "requirements.txt").unlink()  # a new file: everything is the pull request's, nothing left out
    assert plan("requirements.txt", head, base) == ([("requirements.txt", ["a==2", "b==1"])], [], None)


@pytest.mark.parametrize(("line", "loose"), [
    ("urllib3==1.26.4", False), ("Django===4.2.15", False), ("numpy==1.*", True),
    ("jinja2[i18n] == 2.10 ; python_version >= '3'", False),
    ("pyyaml==5.3 --hash=sha256:abc", False),
    ("pytest>=8", True), ("black", True), ("requests==2.*", True), ("six>=1,==1.16.0", True),
    ("pkg @ https://example.com/pkg-1.0.tar.gz", False),  # a URL: pip-audit judges it
    ("./local/path", False),  # not a requirement we can read: pip-audit judges it
])
def test_which_requirements_are_not_pinned(line: str, loose: bool) -> None:
    assert unpinned(entry(line)) is loose
