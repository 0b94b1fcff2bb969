"""Charts drawn server-side as inline SVG: a gauge, line charts, sparklines and stacked bars. Pure.

The dashboard page embeds these, so it needs no script, no font and no request at view time. Every text that
goes into the SVG is XML-escaped here; numbers are formatted here. Each chart carries a `<title>` and an
`aria-label`, so the numbers are readable without seeing the picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from repo_automation.report.views import fmt_number

# Red / yellow / green at the guide's 0 / 60 / 80 (the Grafana gauges use the same steps).
BANDS = ((0.0, "#d73a49"), (60.0, "#dbab09"), (80.0, "#28a745"))
PALETTE = ("#0366d6", "#28a745", "#d73a49", "#6f42c1", "#e36209", "#005cc5", "#22863a")
SEVERITY_COLOURS = {"critical": "#86181d", "high": "#d73a49", "medium": "#e36209", "low": "#dbab09",
                    "unknown": "#6a737d"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    at: datetime
    value: float


def band_colour(score: float | None) -> str:
    if score is None:
        return "#6a737d"
    colour = BANDS[0][1]
    for start, c in BANDS:
        if score >= start:
            colour = c
    return colour


def _num(value: float) -> str:
    return fmt_number(value) if math.isfinite(value) else "—"


def _attr(text: str) -> str:
    return escape(text, quote=True)


def gauge(score: float | None, *, label: str, size: int = 180) -> str:
    """A half-circle gauge from 0 to 100 with the score's band colour; inconclusive shows a grey "—"."""
    r, cx, cy = size * 0.4, size / 2, size * 0.55
    def at(v: float) -> tuple[float, float]:
        angle = math.pi * (1 - max(0.0, min(100.0, v)) / 100)
        return cx + r * math.cos(angle), cy - r * math.sin(angle)
    x0, y0 = at(0)
    x1, y1 = at(100)
    track = f'<path d="M{x0:.1f},{y0:.1f} A{r:.1f},{r:.1f} 0 0 1 {x1:.1f},{y1:.1f}" class="track"/>'
    arc, text = "", "—"
    if score is not None and math.isfinite(score):
        xs, ys = at(score)
        arc = (f'<path d="M{x0:.1f},{y0:.1f} A{r:.1f},{r:.1f} 0 0 1 {xs:.1f},{ys:.1f}" '
               f'stroke="{band_colour(score)}" class="value"/>')
        text = _num(score)
    title = f"{label}: {text}" + ("" if score is None else " of 100")
    return (f'<svg class="gauge" viewBox="0 0 {size} {size * 0.7:.0f}" width="{size}" role="img" '
            f'aria-label="{_attr(title)}"><title>{escape(title)}</title>{track}{arc}'
            f'<text x="{cx:.1f}" y="{cy - 4:.1f}" class="big">{escape(text)}</text>'
            f'<text x="{cx:.1f}" y="{cy + 18:.1f}" class="small">{escape(label)}</text></svg>')


def _scale(points: Sequence[Point], width: float, height: float, pad: float,
           lo: float | None = None, hi: float | None = None) -> tuple[list[tuple[float, float]], float, float]:
    values = [p.value for p in points]
    low = min(values) if lo is None else lo
    high = max(values) if hi is None else hi
    if high == low:
        high, low = high + 1, low - 1
    times = [p.at.timestamp() for p in points]
    t0, t1 = min(times), max(times)
    span = (t1 - t0) or 1.0
    xy = [(pad + (t - t0) / span * (width - 2 * pad) if t1 > t0 else width / 2,
           height - pad - (v - low) / (high - low) * (height - 2 * pad)) for t, v in zip(times, values, strict=True)]
    return xy, low, high


def sparkline(points: Sequence[Point], *, label: str, width: int = 120, height: int = 28) -> str:
    """A small line of one metric's stored values, oldest to newest; empty when there is no history."""
    if not points:
        return ""
    xy, low, high = _scale(points, width, height, 3)
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    title = (f"{label}: {len(points)} stored value{'s' if len(points) != 1 else ''}, from {_num(points[0].value)} "
             f"to {_num(points[-1].value)} (low {_num(low if len(points) > 1 else points[0].value)}, "
             f"high {_num(high if len(points) > 1 else points[0].value)})")
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{_attr(title)}"><title>{escape(title)}</title>'
            f'<polyline points="{line}" class="line"/><circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2"/></svg>')


def line_chart(series: Mapping[str, Sequence[Point]], *, label: str, width: int = 640, height: int = 220,
               lo: float | None = 0.0, hi: float | None = 100.0) -> str:
    """Several named series over time on one set of axes, with a legend; empty when no series has a point."""
    drawn = {name: pts for name, pts in series.items() if pts}
    if not drawn:
        return ""
    everything = [p for pts in drawn.values() for p in pts]
    low, high = _bounds([p.value for p in everything], lo, hi)
    parts: list[str] = [f'<line x1="28" y1="{height - 28}" x2="{width - 28}" y2="{height - 28}" class="axis"/>']
    for frac in (0.0, 0.5, 1.0):
        y = height - 28 - frac * (height - 56)
        parts.append(f'<text x="24" y="{y + 4:.1f}" class="tick">{escape(_num(low + frac * (high - low)))}</text>')
    t0 = min(p.at for p in everything)
    t1 = max(p.at for p in everything)
    parts += _time_ticks(t0, t1, width, height)
    legend: list[str] = []
    for i, (name, pts) in enumerate(sorted(drawn.items())):
        colour = PALETTE[i % len(PALETTE)]
        xy = _scale_on(pts, t0, t1, low, high, width, height)  # one time axis for every series
        parts.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in xy)}" stroke="{colour}" '
                     f'class="series"><title>{escape(name)}: latest {escape(_num(pts[-1].value))}</title></polyline>')
        legend.append(f'<tspan fill="{colour}">■</tspan> {escape(name)} {escape(_num(pts[-1].value))}')
    parts.append(f'<text x="28" y="14" class="legend">{"   ".join(legend)}</text>')
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{_attr(label)}">'
            f'<title>{escape(label)}</title>{"".join(parts)}</svg>')


def _bounds(values: Sequence[float], lo: float | None, hi: float | None) -> tuple[float, float]:
    low = min(values) if lo is None else lo
    high = max(values) if hi is None else hi
    return (low, high) if high > low else (low, low + 1)


def _time_ticks(t0: datetime, t1: datetime, width: int, height: int) -> list[str]:
    return [f'<text x="28" y="{height - 10}" class="tick start">{escape(t0.date().isoformat())}</text>',
            f'<text x="{width - 28}" y="{height - 10}" class="tick end">{escape(t1.date().isoformat())}</text>']


def _scale_on(points: Sequence[Point], t0: datetime, t1: datetime, low: float, high: float,
              width: float, height: float, pad: float = 28) -> list[tuple[float, float]]:
    span = (t1 - t0).total_seconds() or 1.0
    out = []
    for p in points:
        x = pad + (p.at - t0).total_seconds() / span * (width - 2 * pad) if t1 > t0 else width / 2
        y = height - pad - (min(max(p.value, low), high) - low) / ((high - low) or 1) * (height - 2 * pad)
        out.append((x, y))
    return out


def stacked_bars(columns: Sequence[tuple[datetime, Mapping[str, float]]], *, order: Sequence[str], label: str,
                 width: int = 640, height: int = 200) -> str:
    """One bar per run, stacked by severity (order: bottom to top); empty when there are no runs."""
    if not columns:
        return ""
    top = max((sum(counts.get(k, 0) for k in order) for _, counts in columns), default=0) or 1
    slot = (width - 56) / len(columns)
    bar = max(1.0, slot * 0.7)
    parts = [f'<line x1="28" y1="{height - 28}" x2="{width - 28}" y2="{height - 28}" class="axis"/>',
             f'<text x="24" y="32" class="tick">{escape(_num(top))}</text>']
    for i, (at, counts) in enumerate(columns):
        y = height - 28.0
        x = 28 + i * slot + (slot - bar) / 2
        for key in order:
            n = counts.get(key, 0)
            if n <= 0:
                continue
            h = n / top * (height - 60)
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{SEVERITY_COLOURS.get(key, "#6a737d")}"><title>{escape(at.date().isoformat())} '
                         f'{escape(key)}: {escape(_num(n))}</title></rect>')
    legend = "   ".join(f'<tspan fill="{SEVERITY_COLOURS.get(k, "#6a737d")}">■</tspan> {escape(k)}' for k in order)
    parts.append(f'<text x="28" y="14" class="legend">{legend}</text>')
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{_attr(label)}">'
            f'<title>{escape(label)}</title>{"".join(parts)}</svg>')
