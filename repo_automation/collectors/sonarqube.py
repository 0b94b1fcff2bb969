"""SonarQube / SonarCloud measures and quality-gate status through Sonar's web API.

Config `tracking.data_sources.sonarqube` gives `host`, `project_key` (and `organization` for SonarCloud,
used only in the dashboard link: neither endpoint takes it); the token is `settings.sonar_token`
(SONAR_TOKEN), sent as `Authorization: Bearer`. Two GETs per run:
- `api/measures/component?component=KEY&metricKeys=…`. Sonar fails the whole call when one metric key is
  unknown to the server (404 "The following metric keys are not found: a, b"), so those keys are dropped
  and the call is retried once;
- `api/qualitygates/project_status?projectKey=KEY`, whose status (OK / WARN / ERROR / NONE) goes into
  every metric's metadata (`quality_gate`); if only that call fails, the metrics are still reported and
  the source is `partial`, its reason saying why the gate was not read.
  On a pull request the gate of the pull request's analysis is asked for first (`pullRequest=N`), and the
  project's main-branch gate when Sonar has not analysed the pull request (`quality_gate_scope` says which).
  Measures are always the project's overall ones: a pull request analysis only has new-code measures.
Sonar's values are strings ("85.3", ratings "1.0" … "5.0"); they are parsed here.

Metrics (source "sonarqube"): code_quality.coverage, code_quality.maintainability_rating (sqale_rating),
code_quality.reliability_rating, code_quality.security_rating (A=1 … E=5), code_quality.technical_debt_minutes
(sqale_index), code_quality.duplication, code_quality.ncloc, security.sonar_vulnerabilities (Sonar's own
count: security.vulnerabilities is derived from our scanners' findings) and security.hotspots; any extra
key in `metrics` as `sonarqube.<key>`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from repo_automation.context import RunContext
from repo_automation.domain import Metric
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.redaction import Secret
from repo_automation.sessions import make_session as shared_session
from repo_automation.stages import Collector, Noted

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

# Sonar metric key -> (our metric name, unit)
METRICS: dict[str, tuple[str, str]] = {
    "coverage": ("code_quality.coverage", "%"),
    "sqale_rating": ("code_quality.maintainability_rating", ""),
    "reliability_rating": ("code_quality.reliability_rating", ""),
    "security_rating": ("code_quality.security_rating", ""),
    "vulnerabilities": ("security.sonar_vulnerabilities", ""),
    "security_hotspots": ("security.hotspots", ""),
    "sqale_index": ("code_quality.technical_debt_minutes", "min"),
    "duplicated_lines_density": ("code_quality.duplication", "%"),
    "ncloc": ("code_quality.ncloc", "lines"),
}
_UNKNOWN_KEYS = re.compile(r"metric keys are not found:\s*(.+)$", re.IGNORECASE)
TIMEOUT_S = 30.0


class SonarQubeCollector(Collector):
    name = "sonarqube"

    def __init__(self, *, host: str | None, project_key: str | None, session: requests.Session,
                 token: Secret | None = None, organization: str | None = None,
                 extra_metrics: Sequence[str], enabled: bool, timeout: float = TIMEOUT_S) -> None:
        self._host = (host or "").rstrip("/")
        self._key = project_key or ""
        self._session = session
        self._token = token
        self._organization = organization
        self._extra = [k for k in dict.fromkeys(extra_metrics) if k and k not in METRICS]
        self._enabled = enabled
        self._timeout = timeout

    @classmethod
    def from_context(cls, ctx: RunContext) -> SonarQubeCollector:
        cfg = ctx.config.data_sources.sonarqube
        return cls(host=cfg.host, project_key=cfg.project_key, session=make_session(),
                   token=ctx.settings.sonar_token, organization=cfg.organization,
                   extra_metrics=cfg.metrics, enabled=cfg.enabled)

    def collect(self, ctx: RunContext) -> list[Metric]:
        if not self._enabled:
            raise SourceSkipped("SonarQube is disabled (tracking.data_sources.sonarqube.enabled: false)")
        if not self._host or not self._key:
            raise SourceSkipped("SonarQube is not configured (set tracking.data_sources.sonarqube.host and "
                                "project_key)")
        values = self._measures([*METRICS, *self._extra])
        if not values:
            raise SourceSkipped(f"SonarQube has no measures for project '{self._key}' yet (not analysed?)")
        gate, gate_error = self._gate(ctx.pull_request.number if ctx.pull_request else None)
        meta = {"project_key": self._key, "dashboard": f"{self._host}/dashboard?id={quote(self._key, safe='')}",
                **gate}
        if self._organization:
            meta["organization"] = self._organization
        out = []
        for key, value in values.items():
            name, unit = METRICS.get(key, (f"sonarqube.{key}", ""))
            out.append(Metric(name=name, value=value, source=self.name, unit=unit,
                              metadata={**meta, "sonar_metric": key}))
        # a gate that could not be read is the source's reason (partial), once, not a copy in every metric
        return Noted(out, partial=f"measures read; quality gate not read: {gate_error}" if gate_error else "")

    # -- the two calls -----------------------------------------------------------------------------------
    def _measures(self, keys: list[str]) -> dict[str, float]:
        status, body = self._get("api/measures/component", {"component": self._key, "metricKeys": ",".join(keys)})
        unknown = _unknown_keys(status, body)
        if unknown:
            remaining = [k for k in keys if k not in unknown]
            log.warning("SonarQube does not know the metric keys %s; retrying without them", ", ".join(unknown))
            if not remaining or len(remaining) == len(keys):
                raise SourceFailed(f"SonarQube rejected the metric keys: {_message(body)}")
            status, body = self._get("api/measures/component",
                                     {"component": self._key, "metricKeys": ",".join(remaining)})
            if _unknown_keys(status, body):
                raise SourceFailed(f"SonarQube rejected the metric keys again: {_message(body)}")
        if status != 200:
            raise SourceFailed(self._explain(status, body))
        return parse_measures(body)

    def _gate(self, pull_request: int | None) -> tuple[dict[str, Any], str]:
        """The gate's metadata for every metric, and why it could not be read ("" when it was)."""
        params = {"projectKey": self._key}
        scope = "main branch"
        try:
            if pull_request is not None:
                status, body = self._get("api/qualitygates/project_status",
                                         {**params, "pullRequest": str(pull_request)})
                scope = f"pull request #{pull_request}"
            if pull_request is None or status == 404:
                scope = "main branch"
                status, body = self._get("api/qualitygates/project_status", params)
        except SourceFailed as e:
            return {"quality_gate": None}, str(e)
        if status != 200:
            return {"quality_gate": None}, self._explain(status, body)
        project = body.get("projectStatus") if isinstance(body, Mapping) else None
        if not isinstance(project, Mapping) or not isinstance(project.get("status"), str):
            return {"quality_gate": None}, "unexpected answer from api/qualitygates"
        failing = [str(c.get("metricKey")) for c in project.get("conditions") or []
                   if isinstance(c, Mapping) and c.get("status") == "ERROR"]
        return {"quality_gate": project["status"], "quality_gate_scope": scope,
                "quality_gate_failing_conditions": failing}, ""

    def _get(self, path: str, params: Mapping[str, str]) -> tuple[int, Any]:
        import requests  # lazily: keeps --help fast

        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        url = f"{self._host}/{path}"
        try:
            resp = self._session.get(url, params=dict(params), headers=headers, timeout=self._timeout)
        except requests.RequestException as e:
            raise SourceFailed(f"SonarQube at {self._host} is not reachable: {type(e).__name__}") from e
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            if resp.status_code == 200:
                raise SourceFailed(f"SonarQube answered {path} with something that is not JSON") from None
            body = None
        return resp.status_code, body

    def _explain(self, status: int, body: Any) -> str:
        msg = _message(body)
        if status == 401:
            if not self._token:
                return "SonarQube requires a token (401): set SONAR_TOKEN (input sonar-token)"
            return "SonarQube refused the token (401 Unauthorized): check SONAR_TOKEN (input sonar-token)"
        if status == 403:
            return (f"the SonarQube token may not browse project '{self._key}' "
                    f"(403{': ' + msg if msg else ''})")
        if status == 404:
            return (f"SonarQube has no project '{self._key}' (404{': ' + msg if msg else ''}); "
                    f"check tracking.data_sources.sonarqube.project_key")
        return f"SonarQube answered HTTP {status}{': ' + msg if msg else ''}"


def parse_measures(body: Any) -> dict[str, float]:
    """`component.measures[]` as {metric key: number}; non-numeric values (e.g. alert_status) are left out."""
    component = body.get("component") if isinstance(body, Mapping) else None
    if not isinstance(component, Mapping) or not isinstance(component.get("measures", []), list):
        raise SourceFailed("unexpected answer from SonarQube api/measures/component (no component.measures)")
    out: dict[str, float] = {}
    for m in component.get("measures", []):
        if not isinstance(m, Mapping) or "value" not in m:
            continue  # new-code metrics carry `period(s)` instead of a value
        try:
            out[str(m["metric"])] = float(m["value"])
        except (KeyError, TypeError, ValueError):
            log.debug("SonarQube measure %r is not a number; left out", m)
    return out


def _message(body: Any) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("errors"), list):
        return "; ".join(str(e.get("msg", "")) for e in body["errors"] if isinstance(e, Mapping))
    return ""


def _unknown_keys(status: int, body: Any) -> list[str]:
    if status != 404:
        return []
    match = _UNKNOWN_KEYS.search(_message(body))
    return [k.strip() for k in match.group(1).split(",") if k.strip()] if match else []


def make_session() -> requests.Session:
    """The shared session (repo_automation.sessions): user agent, default timeout, bounded retries on 429/5xx."""
    return shared_session()
