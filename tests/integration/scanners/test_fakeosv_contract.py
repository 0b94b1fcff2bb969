"""The local OSV server answers like the documented API, and rejects what the real one rejects."""

from __future__ import annotations

import requests

from tests.fakeosv import FakeOSV, load_records
from tests.fakeosv.server import affects


def post(osv: FakeOSV, path: str, body: object) -> requests.Response:
    return requests.post(osv.url + path, json=body, timeout=5)


def test_query_matches_ecosystem_ranges_and_names(osv: FakeOSV) -> None:
    body = {"package": {"name": "Jinja2", "ecosystem": "PyPI"}, "version": "2.10"}  # PEP 503 name matching
    r = post(osv, "/v1/query", body)
    assert r.status_code == 200
    assert sorted(v["id"] for v in r.json()["vulns"]) == ["PYSEC-2019-217", "PYSEC-2021-66"]
    fixed = post(osv, "/v1/query", {"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.11.3"})
    assert fixed.status_code == 200 and fixed.json() == {}  # the fixed version is not affected


def test_query_boundaries_use_pep440_not_strings(osv: FakeOSV) -> None:
    def ids(version: str) -> set[str]:
        r = post(osv, "/v1/query", {"package": {"name": "urllib3", "ecosystem": "PyPI"}, "version": version})
        return {v["id"] for v in r.json().get("vulns", [])}

    assert "PYSEC-2023-192" in ids("1.26.16")
    assert "PYSEC-2023-192" not in ids("1.26.17")  # fixed
    assert "PYSEC-2023-192" in ids("2.0.5") and "PYSEC-2023-192" not in ids("2.0.6")
    assert "PYSEC-2023-192" not in ids("1.26.100")  # string comparison would say "affected"


def test_querybatch_and_vuln_lookup(osv: FakeOSV) -> None:
    r = post(osv, "/v1/querybatch", {"queries": [
        {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.19.1"},
        {"package": {"name": "six", "ecosystem": "PyPI"}, "version": "1.16.0"},
    ]})
    assert r.status_code == 200
    first, second = r.json()["results"]
    assert sorted(v["id"] for v in first["vulns"]) == ["PYSEC-2018-28", "PYSEC-2023-74"]
    assert set(first["vulns"][0]) == {"id", "modified"} and second == {}
    record = requests.get(osv.url + "/v1/vulns/PYSEC-2018-28", timeout=5)
    assert record.status_code == 200 and record.json()["aliases"] == ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"]


def test_rejects_what_the_real_service_rejects(osv: FakeOSV) -> None:
    assert requests.get(osv.url + "/v1/vulns/PYSEC-0000-0", timeout=5).status_code == 404
    assert post(osv, "/v1/query", {"version": "1.0"}).status_code == 400  # no package
    both = {"package": {"name": "six", "ecosystem": "PyPI"}, "version": "1", "commit": "abc"}
    assert post(osv, "/v1/query", both).status_code == 400
    not_json = requests.post(osv.url + "/v1/query", data=b"{", timeout=5)
    assert not_json.status_code == 400
    assert post(osv, "/v1/querybatch", {"queries": [{"package": {"name": "six"}}] * 1001}).status_code == 400
    assert post(osv, "/v2/query", {}).status_code == 404


def test_version_lists_and_last_affected() -> None:
    record = {"id": "X-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
                                          "versions": ["0.9rc1"],
                                          "ranges": [{"type": "ECOSYSTEM", "events": [
                                              {"introduced": "1.0"}, {"last_affected": "1.2"}]}]}]}
    assert affects(record, "demo", "0.9rc1")  # listed explicitly, outside any range
    assert affects(record, "demo", "1.2") and not affects(record, "demo", "1.2.1")
    assert not affects(record, "other", "1.1")
    assert len(load_records()) == 12
