"""Reading and rewriting pins, classifying updates and choosing versions: pure functions, real file shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_automation import config as config_mod
from repo_automation.domain import Finding, Severity
from repo_automation.errors import ConfigError
from repo_automation.maintenance.deps_plan import Level, MergePolicy, change_for, level_of, plan_updates
from repo_automation.maintenance.manifests import find_manifests, parse_manifest, rewrite_pin
from repo_automation.package_index import Release, lowest_fixed, newest
from repo_automation.sinks.github.pulls import merge_method

REQS = """\
--index-url https://pypi.org/simple
-r base.txt
# a comment with six==0.1 inside \\
Django==4.2.1  # LTS
requests[socks]==2.31.0; python_version >= "3.8"
flask>=2,<3
numpy==1.*
hashed==1.0 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
git+https://github.com/psf/black@main#egg=black
zope.interface==6.0
"""


def test_requirements_pins_ranges_hashes_and_options() -> None:
    found = parse_manifest("requirements.txt", REQS)
    assert [(p.key, p.version, p.line) for p in found.pins] == [
        ("django", "4.2.1", 4), ("requests", "2.31.0", 5), ("zope-interface", "6.0", 11)]
    reasons = {u.requirement: u.reason for u in found.unpinned}
    assert "a range" in reasons["flask>=2,<3"] and "a range" in reasons["numpy==1.*"]
    assert "--hash" in reasons["hashed==1.0"]
    assert any("URL" in r or "pip can read" in r for k, r in reasons.items() if "black" in k)


def test_rewrite_keeps_extras_markers_comments_and_other_lines() -> None:
    out = rewrite_pin("requirements.txt", REQS, "requests", "2.31.0", "2.32.3")
    assert out == REQS.replace('requests[socks]==2.31.0; python_version', 'requests[socks]==2.32.3; python_version')
    out = rewrite_pin("requirements.txt", REQS, "django", "4.2.1", "4.2.16")
    assert out is not None and "Django==4.2.16  # LTS" in out and "six==0.1 inside" in out
    assert rewrite_pin("requirements.txt", REQS, "zope-interface", "6.0", "6.4") == REQS.replace(
        "zope.interface==6.0", "zope.interface==6.4")
    assert rewrite_pin("requirements.txt", REQS, "django", "4.0", "4.2.16") is None  # no pin at that version
    assert rewrite_pin("requirements.txt", REQS, "hashed", "1.0", "2.0") is None  # never rewritten


def test_pyproject_only_exact_pins_are_rewritten() -> None:
    text = ('[project]\nname = "x"\ndependencies = ["attrs==23.1.0", "rich>=13"]\n'
            '[project.optional-dependencies]\ndev = [\n  "pytest==8.0.0",  # tests\n]\n'
            '[tool.other]\nattrs = "attrs==23.1.0 is mentioned here too"\n')
    found = parse_manifest("pyproject.toml", text)
    assert [(p.key, p.version) for p in found.pins] == [("attrs", "23.1.0"), ("pytest", "8.0.0")]
    assert [u.requirement for u in found.unpinned] == ["rich>=13"]
    out = rewrite_pin("pyproject.toml", text, "pytest", "8.0.0", "8.3.3")
    assert out == text.replace('"pytest==8.0.0",  # tests', '"pytest==8.3.3",  # tests')
    out = rewrite_pin("pyproject.toml", text, "attrs", "23.1.0", "24.2.0")
    assert out is not None and out.count("attrs==24.2.0") == 1  # the [tool] mention stays
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_manifest("pyproject.toml", "[project\n")


def test_manifests_found_in_the_workspace_and_configured_ones_checked(tmp_path: Path) -> None:
    for rel in ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "svc/requirements/prod.txt",
                ".venv/lib/requirements.txt", "node_modules/x/requirements.txt", "docs/notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    assert find_manifests(tmp_path, []) == ["pyproject.toml", "requirements-dev.txt", "requirements.txt"]
    assert find_manifests(tmp_path, ["svc/requirements/prod.txt"]) == ["svc/requirements/prod.txt"]
    with pytest.raises(ConfigError) as e:
        find_manifests(tmp_path, ["nope.txt"])
    assert "nope.txt" in e.value.diagnostics()


def test_levels_follow_semver_with_zero_major_as_breaking() -> None:
    assert level_of("1.2.3", "1.2.4") is Level.PATCH
    assert level_of("1.2", "1.3") is Level.MINOR
    assert level_of("1.9.9", "2.0.0") is Level.MAJOR
    assert level_of("0.4.1", "0.5.0") is Level.MAJOR and level_of("0.4.1", "0.4.2") is Level.PATCH
    assert level_of("2024.1", "2024.2") is Level.MINOR


def test_newest_ignores_yanked_and_prereleases_unless_pinned_to_one() -> None:
    rel = [Release(version=v, yanked=y) for v, y in
           (("1.0", False), ("1.1", False), ("1.2", True), ("2.0rc1", False), ("not a version", False))]
    assert newest(rel, "1.0") == "1.1"
    assert newest(rel, "1.1") is None
    assert newest(rel, "2.0b1") == "2.0rc1"  # pinned to a pre-release: pre-releases count
    assert lowest_fixed(rel, "1.0", ["1.2"]) is None  # the only fix is yanked and no later final exists
    more = [*rel, Release(version="1.3", yanked=False), Release(version="1.4", yanked=False)]
    assert lowest_fixed(more, "1.0", ["1.2"]) == "1.3"


def test_security_update_targets_the_lowest_fix_and_is_marked() -> None:
    pins = parse_manifest("requirements.txt", "jinja2==2.11.2\n").pins
    releases = {"jinja2": [Release(version=v, yanked=False) for v in ("2.11.2", "2.11.3", "3.1.4")]}
    vuln = Finding(tool="pip-audit", rule_id="PYSEC-2021-66", severity=Severity.MEDIUM, title="t", fingerprint="f",
                   package="Jinja2", version="2.11.2", fixed_versions=("2.11.3",), ids=("PYSEC-2021-66",))
    [update] = plan_updates(pins, releases, [vuln])
    assert (update.target, update.level, update.advisories) == ("2.11.3", Level.PATCH, ("PYSEC-2021-66",))
    change = change_for(update, MergePolicy(patch=False, minor=False, major=False, security=True))
    assert change.merge and change.title.endswith("(security)")
    assert change.branch == "repo-automation/deps/jinja2-2.11.3"
    ignored = Finding(**{**{s: getattr(vuln, s) for s in vuln.__slots__}, "state": "ignored"})
    [plain] = plan_updates(pins, releases, [ignored])
    assert (plain.target, plain.advisories) == ("3.1.4", ())
    by_default = MergePolicy.from_config(config_mod.defaults().dependency_updates)
    assert not change_for(plain, by_default).merge  # a major update: left for review by default


def test_merge_method_is_one_the_repository_allows() -> None:
    assert merge_method({}) == "squash"  # flags absent (no push access): GitHub's answer decides
    assert merge_method({"allow_squash_merge": False, "allow_merge_commit": True}) == "merge"
    only_rebase = {"allow_squash_merge": False, "allow_merge_commit": False, "allow_rebase_merge": True}
    assert merge_method(only_rebase) == "rebase"
