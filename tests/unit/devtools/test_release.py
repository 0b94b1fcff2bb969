"""devtools.release: what the release workflow publishes — the version, the notes, the image action.yml runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from devtools.release import ROOT, ReleaseError, check_tag, main, notes, pin_image, version_of

DIGEST = "sha256:" + "0123456789abcdef" * 4
REF = f"ghcr.io/octo-org/repo-automation@{DIGEST}"
CHANGELOG = """# Changelog

## Unreleased

- Something not released yet.

## [1.2.0] - 2026-12-01

- The image carries semgrep, trivy and safety.
- Releases are attested.

## 1.1.0

- Older.
"""


def test_the_notes_are_the_tags_section_of_the_changelog_alone(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG, encoding="utf-8")
    assert notes("v1.2.0", changelog) == "- The image carries semgrep, trivy and safety.\n- Releases are attested.\n"
    assert notes("v1.1.0", changelog) == "- Older.\n"


def test_a_tag_without_notes_stops_the_release_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG + "\n## 1.3.0\n\n", encoding="utf-8")
    assert main(["notes", "v1.4.0", str(changelog)]) == 2
    assert "has no '## 1.4.0' section" in capsys.readouterr().err
    assert main(["notes", "v1.3.0", str(changelog)]) == 2
    assert "section of CHANGELOG.md is empty" in capsys.readouterr().err
    assert main(["notes", "1.2.0", str(changelog)]) == 2  # not a version tag
    assert "is not a version tag" in capsys.readouterr().err


def test_the_tag_must_name_the_packages_version(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text('"""pkg."""\n\n__version__ = "1.2.0"\n', encoding="utf-8")
    assert check_tag("v1.2.0", init) == "1.2.0"
    with pytest.raises(ReleaseError, match=r"does not match __version__ = '1\.2\.0'"):
        check_tag("v1.2.1", init)


def test_the_released_action_runs_the_published_image_by_digest(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    shutil.copy(ROOT / "action.yml", action)
    before = yaml.safe_load(action.read_text(encoding="utf-8"))
    assert before["runs"] == {"using": "docker", "image": "Dockerfile"}  # main builds; only a release pins
    assert main(["pin-image", REF, str(action)]) == 0
    after = yaml.safe_load(action.read_text(encoding="utf-8"))
    assert after["runs"] == {"using": "docker", "image": f"docker://{REF}"}
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in before.items() if k != "runs"}


@pytest.mark.parametrize("ref", ["ghcr.io/octo-org/repo-automation:1.2.0",
                                 "ghcr.io/octo-org/repo-automation@sha256:abc",
                                 f"ghcr.io/Octo-Org/repo-automation@{DIGEST}"])
def test_only_a_lower_case_image_by_full_digest_is_pinned(tmp_path: Path, ref: str) -> None:
    action = tmp_path / "action.yml"
    shutil.copy(ROOT / "action.yml", action)
    assert main(["pin-image", ref, str(action)]) == 2
    assert action.read_text(encoding="utf-8") == (ROOT / "action.yml").read_text(encoding="utf-8")


def test_an_action_already_pinned_is_left_alone(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    shutil.copy(ROOT / "action.yml", action)
    pin_image(REF, action)
    pinned = action.read_text(encoding="utf-8")
    assert main(["pin-image", REF, str(action)]) == 2
    assert action.read_text(encoding="utf-8") == pinned


def test_the_repository_changelog_has_an_unreleased_section() -> None:
    """Where the next release's notes are collected until a maintainer names the version."""
    assert "\n## Unreleased\n" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("tag", "version"), [("v1.2.3", "1.2.3"), ("v1.2.3-rc.1", "1.2.3-rc.1")])
def test_a_release_or_pre_release_tag_names_a_version_semver_and_pep_440_both_read(tag: str, version: str) -> None:
    from packaging.version import Version

    assert version_of(tag) == version
    assert Version(version) == Version(version.replace("-", ""))  # the package's version, as pip sees it


@pytest.mark.parametrize("tag", ["1.2.3", "v1.2", "v1.2.3rc1", "v1.2.3-beta", "release-1.2.3"])
def test_anything_else_is_not_a_version_tag(tag: str) -> None:
    with pytest.raises(ReleaseError, match="is not a version tag"):
        version_of(tag)
