"""Planning dependency updates: buckets, minimum release age, advisories, security targets, grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from repo_automation import config as config_mod
from repo_automation.domain import Finding, Severity
from repo_automation.maintenance.buckets import Bucket, Rules, bucket_of
from repo_automation.maintenance.deps_plan import MergePolicy, change_for, grouped, plan_updates
from repo_automation.manifests import parse_manifest
from repo_automation.package_index import Release

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=400)


def releases(*specs: str, fresh: tuple[str, ...] = (), yanked: tuple[str, ...] = ()) -> list[Release]:
    return [Release(version=v, yanked=v in yanked, uploaded=NOW - timedelta(hours=5) if v in fresh else OLD)
            for v in specs]


def rules(*, min_days: float = 3, advisories: dict[tuple[str, str], tuple[str, ...]] | None = None,
          buckets: tuple[Bucket, ...] = (Bucket.PATCH, Bucket.MINOR, Bucket.MAJOR)) -> Rules:
    table = advisories or {}
    return Rules(buckets=buckets, min_age=timedelta(days=min_days), security_min_age=timedelta(0), now=NOW,
                 uploaded=lambda r: r.uploaded, advisories=lambda key, version: table.get((key, version), ()))


def vuln(advisory: str, version: str, fixed: tuple[str, ...]) -> Finding:
    return Finding(tool="pip-audit", rule_id=advisory, severity=Severity.HIGH, title="t", fingerprint=advisory,
                   package="Jinja2", version=version, fixed_versions=fixed, ids=(advisory,))


def test_buckets_follow_semver_with_zero_major_as_breaking() -> None:
    assert bucket_of("1.2.3", "1.2.4") is Bucket.PATCH
    assert bucket_of("1.2", "1.3") is Bucket.MINOR
    assert bucket_of("1.9.9", "2.0.0") is Bucket.MAJOR
    assert bucket_of("0.4.1", "0.5.0") is Bucket.MAJOR and bucket_of("0.4.1", "0.4.2") is Bucket.PATCH


def test_one_update_per_bucket_each_on_its_own_branch() -> None:
    pins = parse_manifest("requirements.txt", "tomli==1.0.0\n").pins
    index = {"tomli": releases("1.0.0", "1.0.1", "1.0.4", "1.1.0", "1.2.3", "2.0.0", "2.0.1", "3.0.0rc1",
                               "1.0.5", yanked=("1.0.5",))}
    plan = plan_updates(pins, index, rules())
    assert [(u.level, u.target, u.branch) for u in plan.updates] == [
        (Bucket.PATCH, "1.0.4", "repo-automation/deps/tomli-patch"),  # 1.0.5 yanked, 3.0.0rc1 a pre-release
        (Bucket.MINOR, "1.2.3", "repo-automation/deps/tomli-minor"),
        (Bucket.MAJOR, "2.0.1", "repo-automation/deps/tomli-major")]
    policy = MergePolicy.from_config(config_mod.defaults().dependency_updates)
    assert [change_for([u], policy).merge for u in plan.updates] == [True, False, False]  # patch only, by default
    only = plan_updates(pins, index, rules(buckets=(Bucket.PATCH,)))
    assert [u.target for u in only.updates] == ["1.0.4"]


def test_minimum_release_age_holds_back_fresh_releases() -> None:
    pins = parse_manifest("requirements.txt", "tomli==1.0.0\n").pins
    plan = plan_updates(pins, {"tomli": releases("1.0.0", "1.0.3", "1.0.4", fresh=("1.0.4",))}, rules())
    assert [u.target for u in plan.updates] == ["1.0.3"]  # the newest one old enough
    assert plan.notes == ["tomli 1.0.4 is newer than the minimum release age (3 days): not proposed yet"]
    assert [u.target for u in plan_updates(pins, {"tomli": releases("1.0.0", "1.0.4", fresh=("1.0.4",))},
                                           rules(min_days=0)).updates] == ["1.0.4"]


def test_a_target_with_its_own_advisory_is_skipped() -> None:
    pins = parse_manifest("requirements.txt", "jinja2==2.10\n").pins
    index = {"jinja2": releases("2.10", "2.10.1", "2.11.3")}
    plan = plan_updates(pins, index, rules(advisories={("jinja2", "2.10.1"): ("PYSEC-2021-66",)}))
    assert [u.target for u in plan.updates] == ["2.11.3"]  # the patch bucket's only target is vulnerable
    assert "jinja2 2.10.1 has advisories of its own (PYSEC-2021-66): skipped" in plan.notes


def test_security_update_goes_to_the_lowest_release_fixing_every_advisory_without_cooldown() -> None:
    pins = parse_manifest("requirements.txt", "Jinja2==2.10\n").pins
    index = {"jinja2": releases("2.10", "2.10.1", "2.11.3", "3.1.4", fresh=("2.11.3",))}
    findings = [vuln("PYSEC-2019-217", "2.10", ("2.10.1",)), vuln("PYSEC-2021-66", "2.10", ("2.11.3",))]
    plan = plan_updates(pins, index, rules(), findings)
    first = plan.updates[0]
    assert (first.target, first.advisories, first.branch) == (
        "2.11.3", ("PYSEC-2019-217", "PYSEC-2021-66"), "repo-automation/deps/jinja2-security")
    assert [u.target for u in plan.updates[1:]] == ["3.1.4"]  # buckets above the fix still come
    change = change_for([first], MergePolicy(patch=False, minor=False, major=False, security=True))
    assert change.merge and change.title == "Bump Jinja2 from 2.10 to 2.11.3 (security)"
    assert change.labels == ("dependencies", "security")
    ignored = [Finding(**{**{s: getattr(f, s) for s in f.__slots__}, "state": "ignored"}) for f in findings]
    assert not any(u.advisories for u in plan_updates(pins, index, rules(), ignored).updates)


def test_grouping_puts_a_bucket_in_one_pull_request() -> None:
    text = "tomli==1.0.0\nsix==1.16.0\n"
    pins = parse_manifest("requirements.txt", text).pins
    index = {"tomli": releases("1.0.0", "1.0.4", "2.0.1"), "six": releases("1.16.0", "1.16.1")}
    plan = plan_updates(pins, index, rules())
    policy = MergePolicy(patch=True, minor=False, major=False, security=True)
    changes = grouped(plan.updates, ["patch"], policy)
    assert [(c.branch, c.merge) for c in changes] == [("repo-automation/deps/group-patch", True),
                                                      ("repo-automation/deps/tomli-major", False)]
    group = changes[0]
    assert group.title == "Bump 2 dependencies (patch updates)" and len(group.edits) == 1
    assert group.edits[0].transform(text) == "tomli==1.0.4\nsix==1.16.1\n"


def test_hashed_pins_without_new_hashes_and_stale_locks_are_not_merged() -> None:
    text = "six==1.16.0 --hash=sha256:" + "a" * 64 + "\n"
    pins = parse_manifest("requirements.txt", text).pins
    [update] = plan_updates(pins, {"six": releases("1.16.0", "1.16.1")}, rules()).updates
    change = change_for([update], MergePolicy(patch=True, minor=False, major=False, security=True))
    assert not change.merge and "need regenerating" in change.body
    pins = parse_manifest("pyproject.toml", '[project]\nname = "x"\ndependencies = ["six==1.16.0"]\n').pins
    [update] = plan_updates(pins, {"six": releases("1.16.0", "1.16.1")}, rules()).updates
    change = change_for([update], MergePolicy(patch=True, minor=False, major=False, security=True),
                        locks={"pyproject.toml": ["uv.lock (`uv lock`)"]})
    assert not change.merge and "uv.lock (`uv lock`)" in change.body
    assert "lock file needs a refresh" in change.merge_reason


def test_a_vulnerability_service_that_does_not_answer_is_said() -> None:
    pins = parse_manifest("requirements.txt", "tomli==1.0.0\n").pins
    unchecked = Rules(buckets=(Bucket.PATCH,), min_age=timedelta(0), security_min_age=timedelta(0), now=NOW,
                      uploaded=lambda r: r.uploaded, advisories=lambda key, version: None)
    plan = plan_updates(pins, {"tomli": releases("1.0.0", "1.0.3")}, unchecked)
    assert [u.target for u in plan.updates] == ["1.0.3"]
    assert plan.notes == ["tomli 1.0.3: its advisories could not be checked (the vulnerability service did not "
                          "answer); proposed unchecked"]
