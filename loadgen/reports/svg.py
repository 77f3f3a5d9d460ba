"""Minimal inline-SVG charts for the self-contained HTML report (no JavaScript, no network).

Each function returns an ``<svg>`` element as a string; all text is escaped.
"""
from __future__ import annotations

import math
from html import escape
from typing import Callable, Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
WIDTH, HEIGHT = 760, 300
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 64, 170, 28, 44

Series = dict[str, Sequence[tuple[float, float]]]


def line_chart(series: Series, *, title: str, x_label: str, y_label: str,
               x_ticks: Callable[[float, float], list[tuple[float, str]]] | None = None,
               x_range: tuple[float, float] | None = None) -> str:
    """Lines of ``(x, y)`` points, one per series name, with axes, ticks and a legend;
    ``x_range`` fixes the x axis (charts meant to be read one above the other)."""
    points = [p for values in series.values() for p in values if math.isfinite(p[0]) and math.isfinite(p[1])]
    if not points:
        return _empty(title)
    x0, x1 = x_range or (min(p[0] for p in points), max(p[0] for p in points))
    y1 = max(p[1] for p in points) * 1.05 or 1.0
    sx = _scale(x0, x1 if x1 > x0 else x0 + 1, MARGIN_L, WIDTH - MARGIN_R)
    sy = _scale(0.0, y1, HEIGHT - MARGIN_B, MARGIN_T)
    parts = [_frame(title, x_label, y_label)]
    parts += _x_axis(sx, (x_ticks or _linear_ticks)(x0, x1))
    parts += _y_axis(sy, _linear_ticks(0.0, y1))
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{coords}"/>')
        parts.append(_legend_entry(i, name, color))
    return _svg(parts)


def bar_chart(rows: Sequence[tuple[str, Sequence[float]]], *, labels: Sequence[str], title: str,
              x_label: str) -> str:
    """Horizontal grouped bars: one group per row name, one bar per label (e.g. p50/p95/p99)."""
    if not rows:
        return _empty(title)
    top = max(v for _, values in rows for v in values) * 1.05 or 1.0
    height = MARGIN_T + MARGIN_B + len(rows) * (len(labels) * 12 + 14)
    sx = _scale(0.0, top, MARGIN_L + 80, WIDTH - MARGIN_R)
    parts = [f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
    y = MARGIN_T
    for name, values in rows:
        parts.append(f'<text x="{MARGIN_L + 74}" y="{y + 12 * len(labels) / 2 + 4}" text-anchor="end">{escape(name)}</text>')
        for i, value in enumerate(values):
            color = PALETTE[i % len(PALETTE)]
            parts.append(f'<rect x="{sx(0):.1f}" y="{y}" width="{max(0.5, sx(value) - sx(0)):.1f}" height="10" fill="{color}"/>')
            parts.append(f'<text x="{sx(value) + 4:.1f}" y="{y + 9}" font-size="10">{value:.2f}</text>')
            y += 12
        y += 14
    parts += [_legend_entry(i, label, PALETTE[i % len(PALETTE)]) for i, label in enumerate(labels)]
    parts.append(f'<text x="{(sx(0) + sx(top)) / 2:.1f}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>')
    return _svg(parts, height=height)


def spectrum_ticks(x0: float, x1: float) -> list[tuple[float, str]]:
    """Ticks for a percentile axis drawn as log10(1 / (1 - p)): 0, 90, 99, 99.9, … %."""
    ticks, nines = [], 0
    while nines <= max(1, math.floor(x1 + 1e-6)):
        label = "0%" if nines == 0 else "99." + "9" * (nines - 2) + "%" if nines > 2 else f"{100 - 10 ** (2 - nines):g}%"
        ticks.append((float(nines), label))
        nines += 1
    return ticks


def _linear_ticks(low: float, high: float, count: int = 5) -> list[tuple[float, str]]:
    if high <= low:
        return [(low, f"{low:g}")]
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if step * m >= raw)
    first = math.ceil(low / step) * step
    return [(first + i * step, f"{first + i * step:g}") for i in range(int((high - first) / step) + 1)]


def _scale(d0: float, d1: float, r0: float, r1: float) -> Callable[[float], float]:
    return lambda v: r0 + (v - d0) * (r1 - r0) / (d1 - d0)


def _frame(title: str, x_label: str, y_label: str) -> str:
    mid_y = (MARGIN_T + HEIGHT - MARGIN_B) / 2
    return (f'<text x="{(MARGIN_L + WIDTH - MARGIN_R) / 2}" y="18" text-anchor="middle" font-weight="bold">{escape(title)}</text>'
            f'<text x="{(MARGIN_L + WIDTH - MARGIN_R) / 2}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}</text>'
            f'<text x="14" y="{mid_y}" text-anchor="middle" transform="rotate(-90 14 {mid_y})">{escape(y_label)}</text>'
            f'<rect x="{MARGIN_L}" y="{MARGIN_T}" width="{WIDTH - MARGIN_L - MARGIN_R}" '
            f'height="{HEIGHT - MARGIN_T - MARGIN_B}" fill="none" stroke="#999"/>')


def _x_axis(sx: Callable[[float], float], ticks: list[tuple[float, str]]) -> list[str]:
    base = HEIGHT - MARGIN_B
    return [f'<line x1="{sx(v):.1f}" y1="{base}" x2="{sx(v):.1f}" y2="{base + 4}" stroke="#666"/>'
            f'<text x="{sx(v):.1f}" y="{base + 16}" text-anchor="middle" font-size="10">{escape(label)}</text>'
            for v, label in ticks]


def _y_axis(sy: Callable[[float], float], ticks: list[tuple[float, str]]) -> list[str]:
    return [f'<line x1="{MARGIN_L - 4}" y1="{sy(v):.1f}" x2="{WIDTH - MARGIN_R}" y2="{sy(v):.1f}" stroke="#eee"/>'
            f'<text x="{MARGIN_L - 6}" y="{sy(v) + 3:.1f}" text-anchor="end" font-size="10">{escape(label)}</text>'
            for v, label in ticks]


def _legend_entry(i: int, name: str, color: str) -> str:
    x, y = WIDTH - MARGIN_R + 12, MARGIN_T + 6 + 16 * i
    return (f'<rect x="{x}" y="{y - 8}" width="12" height="4" fill="{color}"/>'
            f'<text x="{x + 18}" y="{y - 2}" font-size="11">{escape(name)}</text>')


def _empty(title: str) -> str:
    return _svg([f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">{escape(title)}: no data</text>'])


def _svg(parts: list[str], height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">{"".join(parts)}</svg>')
