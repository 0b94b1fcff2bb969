"""The `fake_github` fixture fails a test that sent a request GitHub would refuse, even if the test passed."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[4]


def test_a_refused_request_fails_the_test_that_sent_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from tests.fakegithub import fake_github, github_spec  # noqa: F401
""")
    pytester.makepyfile(test_inner="""
import requests

def test_sends_an_issue_without_title(fake_github):
    r = requests.post(fake_github.url + "/repos/octo-org/hello-world/issues", json={"body": "x"},
                      headers={"Authorization": "token " + fake_github.token}, timeout=10)
    assert r.status_code == 422  # the test itself passes...

def test_sends_a_valid_request(fake_github):
    r = requests.post(fake_github.url + "/repos/octo-org/hello-world/issues", json={"title": "x"},
                      headers={"Authorization": "token " + fake_github.token}, timeout=10)
    assert r.status_code == 201
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=120)  # own process: own imports
    result.assert_outcomes(passed=2, errors=1)  # ...but its teardown fails it
    result.stdout.fnmatch_lines(["*requests GitHub would refuse*", "*'title' is a required property*"])
