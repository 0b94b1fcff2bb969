"""PR mode audits only the pins a pull request changed: real git, real pip-audit, the local OSV server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from repo_automation.errors import SourceSkipped
from repo_automation.scanners import build_scanners
from repo_automation.stages import notices_of
from tests.fakeosv import FakeOSV
from tests.integration.scanners.scanning import audited_pins, context, git

HASH_A, HASH_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def pull_request(project: Path, tmp_path: Path, change: Callable[[Path], None],
                 before: Callable[[Path], None] | None = None) -> Path:
    """Commit the fixture (after `before`) as the base, apply `change` as the head; the event file."""
    if before is not None:
        before(project)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    base = git(project, "rev-parse", "HEAD")
    git(project, "checkout", "-q", "-b", "feature")
    change(project)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "head")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "base": {"sha": base, "ref": "main"},
                                                  "head": {"sha": git(project, "rev-parse", "HEAD"),
                                                           "ref": "feature"}}}), encoding="utf-8")
    return event


def edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def pip_audit_scan(project: Path, event: Path, osv: FakeOSV) -> tuple[dict[str, list[str]], list[str]]:
    ctx = context(project, osv, event_path=event, tools=["pip-audit"])
    scanners = build_scanners(ctx)
    got: dict[str, list[str]] = {}
    findings = scanners[0].scan(ctx)
    for f in findings:
        got.setdefault(f.state, []).append(f"{f.package}:{f.rule_id}:{f.location.start_line if f.location else 0}")
    return {k: sorted(v) for k, v in got.items()}, list(notices_of(findings))


def test_markers_and_extras_of_changed_lines_reach_pip_audit(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    def change(p: Path) -> None:
        edit(p, "requirements.txt", "jinja2==2.10\n", 'Jinja2[i18n]==2.10.1 ; python_version >= "3"  # patched\n')
        with (p / "requirements.txt").open("a", encoding="utf-8") as fh:
            fh.write('pyyaml==5.3 ; python_version < "3"\n')  # never installed on Python 3: not audited

    got, notices = pip_audit_scan(project, pull_request(project, tmp_path, change), osv)
    # 2.10.1 fixes PYSEC-2019-217 only; the finding that stays points at the head's line 2
    assert got == {"existing": ["jinja2:PYSEC-2021-66:2"], "fixed": ["jinja2:PYSEC-2019-217:2"]}
    assert sorted(audited_pins(osv)) == [("jinja2", "2.10"), ("jinja2", "2.10.1")]  # the marker kept pyyaml out
    assert notices == ["pip-audit: PR mode audited the 2 pins that changed in requirements.txt; "
                       "the 4 unchanged pins are covered by the full scan"]


def test_hashed_continuation_lines_are_audited(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    lock = "# pip-compile --generate-hashes\nsix==1.16.0 \\\n    --hash={a}\npyyaml=={v} \\\n    --hash={b}\n"

    def before(p: Path) -> None:
        (p / "requirements-lock.txt").write_text(lock.format(a=HASH_A, b=HASH_B, v="5.4"), encoding="utf-8")

    def change(p: Path) -> None:
        (p / "requirements-lock.txt").write_text(lock.format(a=HASH_A, b=HASH_A, v="5.3"), encoding="utf-8")

    got, notices = pip_audit_scan(project, pull_request(project, tmp_path, change, before), osv)
    assert got == {"new": ["pyyaml:PYSEC-2020-96:4", "pyyaml:PYSEC-2021-142:4"]}
    assert sorted(audited_pins(osv)) == [("pyyaml", "5.3"), ("pyyaml", "5.4")]
    assert notices == ["pip-audit: PR mode audited the 1 pin that changed in requirements-lock.txt; "
                       "the 1 unchanged pin is covered by the full scan"]


def test_no_pin_changed_means_no_audit(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    def change(p: Path) -> None:
        req = p / "requirements.txt"
        lines = req.read_text(encoding="utf-8").splitlines()
        # reordered, a comment changed, a name respelled: the same requirements; a pyproject edit outside [project]
        req.write_text("\n".join(["# reordered", *reversed(lines[1:])]).replace("jinja2", "Jinja2") + "\n",
                       encoding="utf-8")
        edit(p, "pyproject.toml", 'skips = ["B101"]', 'skips = ["B101", "B311"]')

    ctx = context(project, osv, event_path=pull_request(project, tmp_path, change), tools=["pip-audit"])
    (scanner,) = build_scanners(ctx)
    with pytest.raises(SourceSkipped, match=r"changes no pin in pyproject\.toml, requirements\.txt"):
        scanner.scan(ctx)
    assert audited_pins(osv) == [] and osv.requests == []


def test_added_and_deleted_manifests(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    def change(p: Path) -> None:
        (p / "requirements.txt").unlink()
        (p / "requirements-dev.txt").write_text("pyyaml==5.3\n", encoding="utf-8")

    got, notices = pip_audit_scan(project, pull_request(project, tmp_path, change), osv)
    assert got["new"] == ["pyyaml:PYSEC-2020-96:1", "pyyaml:PYSEC-2021-142:1"]
    assert len(got["fixed"]) == 8 and set(got) == {"new", "fixed"}  # every finding of the deleted file
    assert sorted(audited_pins(osv)) == sorted([("jinja2", "2.10"), ("requests", "2.19.1"), ("urllib3", "1.26.4"),
                                          ("django", "4.2.15"), ("six", "1.16.0"), ("pyyaml", "5.3")])
    assert notices == []  # nothing was left unaudited


def test_a_manifest_that_includes_another_is_audited_whole(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    def before(p: Path) -> None:
        (p / "requirements-extra.txt").write_text("six==1.16.0\n", encoding="utf-8")
        with (p / "requirements.txt").open("a", encoding="utf-8") as fh:
            fh.write("-r requirements-extra.txt\n")

    got, notices = pip_audit_scan(
        project, pull_request(project, tmp_path, lambda p: edit(p, "requirements.txt", "2.10", "2.11.3"), before),
        osv)
    assert got["fixed"] == ["jinja2:PYSEC-2019-217:2", "jinja2:PYSEC-2021-66:2"]
    assert len(got["existing"]) == 6 and set(got) == {"existing", "fixed"}  # requests x2, urllib3 x3, django
    assert ("requests", "2.19.1") in audited_pins(osv) and notices == []


def test_a_loose_requirement_added_beside_a_pin_is_named_and_the_pin_audited(project: Path, tmp_path: Path,
                                                                             osv: FakeOSV) -> None:
    def change(p: Path) -> None:
        with (p / "requirements.txt").open("a", encoding="utf-8") as fh:
            fh.write("pyyaml==5.3\npytest>=8\n")

    got, notices = pip_audit_scan(project, pull_request(project, tmp_path, change), osv)
    assert got == {"new": ["pyyaml:PYSEC-2020-96:7", "pyyaml:PYSEC-2021-142:7"]}
    assert audited_pins(osv) == [("pyyaml", "5.3")]  # pip-audit never saw the loose line, so it did not refuse
    assert ("pip-audit: 1 dependency skipped, not audited: requirements.txt: pytest>=8 "
            "(not a pin: a range, left as it is)") in notices


def test_a_changed_lock_file_is_audited_whole_at_head_and_base(project: Path, tmp_path: Path, osv: FakeOSV) -> None:
    lock = 'lock-version = "1.0"\ncreated-by = "pip"\n\n[[packages]]\nname = "jinja2"\nversion = "{v}"\n'

    def before(p: Path) -> None:
        (p / "pylock.toml").write_text(lock.format(v="2.10"), encoding="utf-8")

    def change(p: Path) -> None:
        (p / "pylock.toml").write_text(lock.format(v="2.11.3"), encoding="utf-8")

    got, _ = pip_audit_scan(project, pull_request(project, tmp_path, change, before), osv)
    assert got == {"fixed": ["jinja2:PYSEC-2019-217:5", "jinja2:PYSEC-2021-66:5"]}  # both fixed by 2.11.3
    assert sorted(audited_pins(osv)) == [("jinja2", "2.10"), ("jinja2", "2.11.3")]
