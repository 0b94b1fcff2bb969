from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repo_automation import runner
from tests.runner_files import parse_command, parse_output_file


def test_escaping_follows_the_toolkit() -> None:
    assert runner.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert runner.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotation_survives_hostile_paths_and_titles() -> None:
    line = runner.annotation("error", "bad\nthing 100%", file="src/a,b:c.py", line=7, end_line=9,
                             title="bandit B101, high: assert")
    assert "\n" not in line
    name, props, message = parse_command(line)
    assert name == "error"
    assert props == {"file": "src/a,b:c.py", "line": "7", "endLine": "9", "title": "bandit B101, high: assert"}
    assert message == "bad\nthing 100%"


def test_annotation_leaves_out_unknown_properties_and_rejects_bad_levels() -> None:
    assert runner.annotation("notice", "hi") == "::notice::hi"
    with pytest.raises(ValueError, match="annotation level"):
        runner.annotation("fatal", "x")


def test_masks_groups() -> None:
    assert runner.group("Scanners: bandit, pip-audit") == "::group::Scanners: bandit, pip-audit"
    assert runner.endgroup() == "::endgroup::"
    pem = "-----BEGIN KEY-----\nabc123\n-----END KEY-----\n"
    lines = runner.add_mask(pem)
    assert parse_command(lines[0])[2] == pem  # the whole value, escaped onto one line
    assert [parse_command(x)[2] for x in lines[1:]] == ["-----BEGIN KEY-----", "abc123", "-----END KEY-----"]
    assert runner.add_mask("") == []


def test_outputs_round_trip_through_the_runner_format(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.write_text("earlier=step\n", encoding="utf-8")
    values = {"health-score": "72.5", "report": "line 1\nline 2\n\nEOF\nghadelimiter_x", "empty": ""}
    runner.write_outputs(out, values)
    assert parse_output_file(out.read_text(encoding="utf-8")) == {"earlier": "step", **values}


def test_a_value_cannot_end_its_block_early() -> None:
    text = runner.format_output("x", "a\nDELIM\nevil=1", delimiter="DELIM")
    assert parse_output_file(text) == {"x": "a\nDELIM\nevil=1"}


def test_output_names_are_checked() -> None:
    with pytest.raises(ValueError, match="invalid output name"):
        runner.format_output("a\nb", "v")


def test_small_summary_is_kept_whole() -> None:
    assert runner.fit_summary("# hi\n", limit=100) == "# hi\n"


def test_large_summary_is_cut_at_a_line_under_the_limit_with_a_note() -> None:
    text = "".join(f"| row {i} | é |\n" for i in range(20000)) + "```mermaid\nxychart-beta\n" + "x\n" * 10
    limit = 64 * 1024
    out = runner.fit_summary(text, limit=limit)
    assert len(out.encode("utf-8")) <= limit
    assert out.endswith(runner.TRUNCATION_NOTE)
    body = out[: -len(runner.TRUNCATION_NOTE)]
    assert body.endswith("|") and body.count("```") % 2 == 0


def test_summary_appends_within_what_is_left(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("x" * 900, encoding="utf-8")
    written = runner.write_summary(path, "line\n" * 100, limit=1000)
    assert path.stat().st_size <= 1000
    assert written == path.stat().st_size - 900
    assert path.read_text(encoding="utf-8").startswith("x" * 900)


def test_safe_directory_is_added_once(tmp_path: Path) -> None:
    gitconfig = tmp_path / "gitconfig"
    env = {"GIT_CONFIG_GLOBAL": str(gitconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    assert runner.add_safe_directory(tmp_path / "ws", env=env)
    assert runner.add_safe_directory(tmp_path / "ws", env=env)
    got = subprocess.run(["git", "config", "--file", str(gitconfig), "--get-all", "safe.directory"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert got == [str(tmp_path / "ws")]


def test_safe_directory_failure_is_reported_not_raised(tmp_path: Path) -> None:
    env = {"GIT_CONFIG_GLOBAL": str(tmp_path / "no-such-dir" / "gitconfig"), "HOME": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    assert runner.add_safe_directory(tmp_path, env=env) is False


def test_is_actions() -> None:
    assert runner.is_actions({"GITHUB_ACTIONS": "true"})
    assert runner.is_actions({"GITHUB_OUTPUT": "/tmp/out"})
    assert not runner.is_actions({"GITHUB_ACTIONS": "false"})
