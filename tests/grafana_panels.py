"""The queries of the checked-in Grafana dashboard, with Grafana's template variables and SQL macros expanded
the way Grafana does: `$repository` in PromQL is a regex value (`=~`), in SQL a quoted list;
`$__timeFilter(col)` is `col BETWEEN 'from' AND 'to'`. No Grafana can run here: the tests run these against
the real Prometheus and PostgreSQL instead."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from devtools.grafana_dashboards import FILE


def dashboard() -> dict[str, Any]:
    return json.loads(FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def targets(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(panel title, target) of every panel target whose data source is of `kind`."""
    return [(p["title"], t) for p in dashboard()["panels"] for t in p.get("targets", [])
            if t["datasource"]["type"] == kind]


def promql(expr: str, repository: str) -> str:
    return expr.replace("$repository", re.escape(repository))


def sql(text: str, repository: str, start: datetime, end: datetime) -> str:
    text = re.sub(r"\$__timeFilter\((\w+)\)", lambda m: f"{m.group(1)} BETWEEN '{start.isoformat()}' AND "
                  f"'{end.isoformat()}'", text)
    return text.replace("$repository", f"'{repository}'")
